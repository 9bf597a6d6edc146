using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Tether.Demo.Internal;

/// <summary>
/// The resource handler: the only target that talks to the product, stock and order database. Others ask it by message
/// (service <see cref="DemoApp.SupplierService"/>). Its handlers are synchronous on purpose: one message at a time on its
/// one connection (an awaited query would let the next turn start a second command on the same connection), and a
/// query here takes well under a millisecond. Run more instances, each with its own connection, to serve more.
/// </summary>
internal sealed class Supplier(DemoOptions options, ILogger logger) : Target, ITarget<Supplier>
{
    private readonly DemoOptions _options = options;
    private readonly ILogger _logger = logger;
    private ProductStore? _store;

    private ProductStore Store => _store ?? throw new InvalidOperationException("The supplier's database is not open.");

    public static void Wire(Channels<Supplier> channels) => channels
        .Request<SearchProducts, ProductPage>(static (self, m, ctx) =>
        {
            // The contracts refuse these first where DemoApp.CreateAdapters() is used; a node without them still gets a clear error.
            Require(m.Page is >= 0 and <= 100_000, $"SearchProducts.Page must be between 0 and 100,000; it is {m.Page}.");
            Require(m.PageSize is >= 1 and <= 100, $"SearchProducts.PageSize must be between 1 and 100; it is {m.PageSize}.");
            return Timed("search", () => self.Store.Search(m.Text, m.Page, m.PageSize));
        })
        .Request<GetProduct, Product>(static (self, m, ctx) => Timed("get", () => self.Store.Get(m.ProductId))
            ?? throw new TetherException(DemoErrors.UnknownProduct, $"No product has the id {m.ProductId}."))
        .Request<RecordOrder, OrderRecorded>(static (self, m, ctx) => self.Record(m, ctx))
        .Request<ListOrders, OrderList>(static (self, m, ctx) =>
        {
            Require(m.Limit is >= 1 and <= 500, $"ListOrders.Limit must be between 1 and 500; it is {m.Limit}.");
            return Timed("orders", () => self.Store.ListOrders(m.Limit));
        })
        .Request<GetSupplierStatus, SupplierStatus>(static (self, m, ctx) =>
        {
            (int products, long orders) = self.Store.Counts();
            return new SupplierStatus(ctx.Node.Name, self.Store.Description, products, orders);
        });

    protected override void OnStarted(Context context)
    {
        // Opening (and on first start creating and seeding) the database happens here, under the spawn: when Spawn
        // returns, the supplier is ready. A restart by supervision opens a fresh connection.
        _store = ProductStore.Open(_options, _logger);
        DemoLog.SupplierStarted(_logger, context.Self, _store.Description, context.Node.Name);
    }

    protected override void OnEnded(Context context, string reason)
    {
        _store?.Dispose();
        _store = null;
    }

    private OrderRecorded Record(RecordOrder m, Context ctx)
    {
        Require(m.Quantity is >= 1 and <= 100, $"RecordOrder.Quantity must be between 1 and 100; it is {m.Quantity}.");
        Require(m.ShipTo is not null, "RecordOrder.ShipTo is missing.");
        OrderRecorded recorded;
        try
        {
            recorded = Timed("record", () => Store.Record(m.ProductId, m.Quantity, m.ShipTo!, DateTimeOffset.UtcNow));
        }
        catch (TetherException ex)
        {
            DemoTelemetry.OrdersRefused.Add(1);
            DemoLog.OrderRefused(_logger, ex.Code, ex.Message);
            throw;
        }

        DemoTelemetry.OrdersRecorded.Add(1);
        DemoLog.OrderRecorded(_logger, recorded.OrderId, m.Quantity, m.ProductId, recorded.StockLeft);

        // Event-carried state transfer: the new level travels in the event, so no catalogue needs to ask.
        ctx.Publish(DemoApp.StockTopic, new StockChanged(m.ProductId, recorded.StockLeft));
        return recorded;
    }

    private static void Require(bool condition, string why)
    {
        if (!condition)
        {
            throw new TetherException(ErrorCodes.BadRequest, why);
        }
    }

    private static T Timed<T>(string operation, Func<T> work)
    {
        using Activity? activity = DemoTelemetry.Source.StartActivity($"supplier {operation}");
        long started = Stopwatch.GetTimestamp();
        try
        {
            return work();
        }
        finally
        {
            DemoTelemetry.QueryDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, new KeyValuePair<string, object?>("operation", operation));
        }
    }
}
