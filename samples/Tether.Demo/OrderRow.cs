namespace Tether.Demo;

/// <summary>One recorded order.</summary>
/// <param name="OrderId">The order's id.</param>
/// <param name="ProductId">The product ordered.</param>
/// <param name="ProductName">Its name.</param>
/// <param name="Quantity">How many.</param>
/// <param name="UnitPrice">The price of one when ordered.</param>
/// <param name="ShipTo">Where it goes.</param>
/// <param name="PlacedAt">When it was recorded (UTC).</param>
public sealed record OrderRow(long OrderId, long ProductId, string ProductName, int Quantity, decimal UnitPrice, ShipTo ShipTo, DateTimeOffset PlacedAt);
