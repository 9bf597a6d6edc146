using System.Collections.Concurrent;

namespace Tether.Demo.Tests;

/// <summary>Stock changes published as events (event-carried state transfer).</summary>
public sealed class StockEventTests
{
    [Fact]
    public async Task PlaceOrder_Recorded_SubscribersGetTheProductsNewStock()
    {
        await using DemoNode demo = DemoNode.Start();
        var seen = new ConcurrentQueue<StockChanged>();
        var also = new ConcurrentQueue<StockChanged>();
        demo.Node.Spawn(() => new StockWatcher(seen));
        demo.Node.Spawn(() => new StockWatcher(also));
        Product product = await SupplierTests.FirstWithStock(demo.Node, 4);

        OrderReceipt first = await demo.Node.Request(DemoApp.OrdersService, new PlaceOrder(product.Id, 2, Shared.Address), session: await demo.TokenAsync()).Within("the first order");
        OrderReceipt second = await demo.Node.Request(DemoApp.OrdersService, new PlaceOrder(product.Id, 1, Shared.Address), session: await demo.TokenAsync()).Within("the second order");

        await Waits.Until(() => seen.Count >= 2 && also.Count >= 2, "both subscribers to get both stock events");
        Assert.Equal([new StockChanged(product.Id, first.StockLeft), new StockChanged(product.Id, second.StockLeft)], seen.ToArray());
        Assert.Equal(seen.ToArray(), also.ToArray());
        Assert.Equal(product.Stock - 3, second.StockLeft);
    }

    [Fact]
    public async Task PlaceOrder_Refused_PublishesNothing()
    {
        await using DemoNode demo = DemoNode.Start();
        var seen = new ConcurrentQueue<StockChanged>();
        demo.Node.Spawn(() => new StockWatcher(seen));
        Product product = await SupplierTests.FirstWithStock(demo.Node, 1, below: 50);

        await demo.Node.Request(DemoApp.SupplierService, new RecordOrder(product.Id, product.Stock + 1, Shared.Address)).FailsWithin("the refused order");
        OrderReceipt ok = await demo.Node.Request(DemoApp.OrdersService, new PlaceOrder(product.Id, 1, Shared.Address), session: await demo.TokenAsync()).Within("an order that succeeds");

        // The successful order's event arrives after anything the refused one could have published (same publisher, in order).
        await Waits.Until(() => !seen.IsEmpty, "the stock event of the successful order");
        Assert.Equal([new StockChanged(product.Id, ok.StockLeft)], seen.ToArray());
    }
}
