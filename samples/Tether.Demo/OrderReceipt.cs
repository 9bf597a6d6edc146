namespace Tether.Demo;

/// <summary>The answer to <see cref="PlaceOrder"/>: the order as recorded.</summary>
/// <param name="OrderId">The order's id in the database.</param>
/// <param name="ProductId">The product ordered.</param>
/// <param name="ProductName">Its name.</param>
/// <param name="Quantity">How many.</param>
/// <param name="UnitPrice">The price of one.</param>
/// <param name="Total">Quantity times unit price.</param>
/// <param name="StockLeft">The product's stock after this order.</param>
public sealed record OrderReceipt(long OrderId, long ProductId, string ProductName, int Quantity, decimal UnitPrice, decimal Total, int StockLeft);
