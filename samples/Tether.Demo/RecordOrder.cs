namespace Tether.Demo;

/// <summary>
/// Records an order at the supplier (service <see cref="DemoApp.SupplierService"/>): in one transaction the product's
/// stock drops by <paramref name="Quantity"/> and the order row is written. Refused with
/// <see cref="DemoErrors.OutOfStock"/> when the stock is short (nothing changes) and <see cref="DemoErrors.UnknownProduct"/>
/// for an unknown product. Publishes <see cref="StockChanged"/> on <see cref="DemoApp.StockTopic"/> when it succeeds.
/// Contract <c>demo.record-order</c>: the same quantity and address rules as <see cref="PlaceOrder"/>.
/// </summary>
/// <param name="ProductId">The product ordered.</param>
/// <param name="Quantity">How many (1 to 100).</param>
/// <param name="ShipTo">Where it goes.</param>
public sealed record RecordOrder(long ProductId, int Quantity, ShipTo? ShipTo) : IRequest<OrderRecorded>;
