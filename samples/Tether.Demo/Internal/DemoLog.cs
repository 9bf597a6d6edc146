using Microsoft.Extensions.Logging;

namespace Tether.Demo.Internal;

/// <summary>The demo's log messages (category <c>Tether.Demo</c>).</summary>
internal static partial class DemoLog
{
    [LoggerMessage(1, LogLevel.Information, "Catalogue database {Database} opened: {Products} products")]
    public static partial void DatabaseOpened(ILogger logger, string database, long products);

    [LoggerMessage(2, LogLevel.Information, "Catalogue database {Database} created and seeded with {Products} products in {Milliseconds:F0} ms")]
    public static partial void DatabaseSeeded(ILogger logger, string database, int products, double milliseconds);

    [LoggerMessage(3, LogLevel.Information, "Supplier {Address} serves {Database} on node {Node}")]
    public static partial void SupplierStarted(ILogger logger, Address address, string database, string node);

    [LoggerMessage(4, LogLevel.Information, "Order {OrderId}: {Quantity} x product {ProductId}, {StockLeft} left")]
    public static partial void OrderRecorded(ILogger logger, long orderId, int quantity, long productId, int stockLeft);

    [LoggerMessage(5, LogLevel.Information, "Order refused ({Code}): {Why}")]
    public static partial void OrderRefused(ILogger logger, string code, string why);

    [LoggerMessage(6, LogLevel.Information, "Order desk {Address} takes orders on node {Node}")]
    public static partial void DeskStarted(ILogger logger, Address address, string node);
}
