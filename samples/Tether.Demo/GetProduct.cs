namespace Tether.Demo;

/// <summary>Reads one product (service <see cref="DemoApp.SupplierService"/>); fails with <see cref="DemoErrors.UnknownProduct"/> when there is none.</summary>
/// <param name="ProductId">The product id.</param>
public sealed record GetProduct(long ProductId) : IRequest<Product>;
