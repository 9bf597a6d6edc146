namespace Tether.Demo;

/// <summary>Lists the newest orders first (service <see cref="DemoApp.SupplierService"/>).</summary>
/// <param name="Limit">At most this many (1 to 500).</param>
public sealed record ListOrders(int Limit = 50) : IRequest<OrderList>;
