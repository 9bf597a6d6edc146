namespace Tether.Demo;

/// <summary>The answer to <see cref="ListOrders"/>.</summary>
/// <param name="Orders">The newest orders, newest first.</param>
/// <param name="Total">How many orders there are in all.</param>
public sealed record OrderList(OrderRow[] Orders, long Total);
