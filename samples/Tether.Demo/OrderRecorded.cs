namespace Tether.Demo;

/// <summary>The answer to <see cref="RecordOrder"/>.</summary>
/// <param name="OrderId">The new order's id.</param>
/// <param name="UnitPrice">The unit price the order was recorded at.</param>
/// <param name="StockLeft">The product's stock after the order.</param>
public sealed record OrderRecorded(long OrderId, decimal UnitPrice, int StockLeft);
