using System.Diagnostics;
using Xunit.Abstractions;

namespace Tether.Demo.Tests;

/// <summary>The supplier near the database, on a real SQLite file: seeding, search, paging, orders, stock.</summary>
public sealed class SupplierTests(ITestOutputHelper output)
{
    private readonly ITestOutputHelper _output = output;

    [Fact]
    public async Task Seed_NewDatabase_HoldsTenThousandProductsTheSameEveryTime()
    {
        await using DemoNode first = DemoNode.Start(DemoRoles.Supplier);
        await using DemoNode second = DemoNode.Start(DemoRoles.Supplier);

        ProductPage a = await first.Node.Request(DemoApp.SupplierService, new SearchProducts(null, 3, 25)).Within("a page of the first catalogue");
        ProductPage b = await second.Node.Request(DemoApp.SupplierService, new SearchProducts(null, 3, 25)).Within("a page of the second catalogue");

        Assert.Equal(10_000, a.Total);
        Assert.Equal(25, a.Items.Length);
        Assert.Equal(a.Items, b.Items); // deterministic: names, categories, prices and stock agree
        SupplierStatus status = await first.Node.Request(DemoApp.SupplierService, new GetSupplierStatus()).Within("the status");
        Assert.Equal(10_000, status.Products);
        Assert.Equal(0, status.Orders);
        Assert.Contains(first.Database, status.Database, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_Words_MatchExactlyTheProductsWhoseWordsTheyBegin()
    {
        await using DemoNode demo = DemoNode.Start(DemoRoles.Supplier);
        List<Product> all = await ReadAll(demo.Node, null);
        Assert.Equal(10_000, all.Count);
        Assert.Equal(10_000, all.Select(p => p.Name).Distinct(StringComparer.Ordinal).Count()); // every seeded name differs

        foreach (string text in new[] { "oak", "oak cha", "Kitch", "LAMP brass", "walnut-shelf", "zzz", "  ", "ligh sconce mod" })
        {
            string[] words = text.ToLowerInvariant().Split([' ', '-'], StringSplitOptions.RemoveEmptyEntries);
            List<Product> expected = all
                .Where(p => words.All(w => $"{p.Name} {p.Category}".ToLowerInvariant().Split(' ').Any(pw => pw.StartsWith(w, StringComparison.Ordinal))))
                .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Id)
                .ToList();

            List<Product> found = await ReadAll(demo.Node, text);

            Assert.True(expected.Select(p => p.Id).SequenceEqual(found.Select(p => p.Id)), $"\"{text}\": expected {expected.Count} products, the search found {found.Count}");
        }
    }

    [Fact]
    public async Task Search_Pages_AreDisjointOrderedAndEndWithAnEmptyPage()
    {
        await using DemoNode demo = DemoNode.Start(DemoRoles.Supplier);

        ProductPage first = await demo.Node.Request(DemoApp.SupplierService, new SearchProducts("steel", 0, 7)).Within("page 0");
        Assert.True(first.Total > 14, $"steel should match more than two pages; it matched {first.Total}");
        int pages = (first.Total + 6) / 7;
        ProductPage last = await demo.Node.Request(DemoApp.SupplierService, new SearchProducts("steel", pages - 1, 7)).Within("the last page");
        ProductPage past = await demo.Node.Request(DemoApp.SupplierService, new SearchProducts("steel", pages, 7)).Within("past the last page");

        Assert.Equal(7, first.Items.Length);
        Assert.Equal(first.Total - ((pages - 1) * 7), last.Items.Length);
        Assert.Empty(past.Items);
        Assert.Equal(first.Total, past.Total);
        List<Product> whole = await ReadAll(demo.Node, "steel", pageSize: 7);
        Assert.Equal(first.Total, whole.Count);
        Assert.Equal(whole.Count, whole.Select(p => p.Id).Distinct().Count());
        Assert.Equal(whole.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Id).Select(p => p.Id), whole.Select(p => p.Id));
    }

    [Fact]
    public async Task Search_AsYouType_TimingIsLogged()
    {
        await using DemoNode demo = DemoNode.Start(DemoRoles.Supplier);
        string typed = "rustic walnut chair";
        await demo.Node.Request(DemoApp.SupplierService, new SearchProducts("r")).Within("a warm-up search");
        var timings = new List<double>();
        ProductPage page = default!;
        for (int i = 1; i <= typed.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            page = await demo.Node.Request(DemoApp.SupplierService, new SearchProducts(typed[..i])).Within($"the search for \"{typed[..i]}\"");
            timings.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        // A measurement, not a claim: the machine is shared, so the figure is logged and the goal lives in benchmarks/.
        timings.Sort();
        _output.WriteLine($"search as you type over 10,000 products (SQLite FTS5, in-process request): {timings.Count} searches, median {timings[timings.Count / 2]:F2} ms, max {timings[^1]:F2} ms");
        Assert.Contains(page.Items, p => p.Name == "Rustic Walnut Chair");
    }

    [Fact]
    public async Task GetProduct_UnknownId_FailsWithUnknownProduct()
    {
        await using DemoNode demo = DemoNode.Start(DemoRoles.Supplier);

        TetherException error = await demo.Node.Request(DemoApp.SupplierService, new GetProduct(10_001)).FailsWithin("the unknown product");

        Assert.Equal(DemoErrors.UnknownProduct, error.Code);
        Assert.Contains("10001", error.Message, StringComparison.Ordinal);
        Product known = await demo.Node.Request(DemoApp.SupplierService, new GetProduct(10_000)).Within("a known product");
        Assert.Equal(10_000, known.Id);
    }

    [Fact]
    public async Task PlaceOrder_InStock_DecrementsStockIsListedAndSurvivesARestart()
    {
        using var folder = new TempFolder();
        string file = folder.File("demo.db");
        Product product;
        OrderReceipt receipt;
        await using (DemoNode demo = DemoNode.Start(DemoRoles.All, file))
        {
            product = await FirstWithStock(demo.Node, 10);
            receipt = await demo.Node.Request(DemoApp.OrdersService, new PlaceOrder(product.Id, 3, Shared.Address), session: await demo.TokenAsync()).Within("the order");

            Assert.Equal(product.Id, receipt.ProductId);
            Assert.Equal(product.Name, receipt.ProductName);
            Assert.Equal(3, receipt.Quantity);
            Assert.Equal(product.Price, receipt.UnitPrice);
            Assert.Equal(product.Price * 3, receipt.Total);
            Assert.Equal(product.Stock - 3, receipt.StockLeft);
            Product after = await demo.Node.Request(DemoApp.SupplierService, new GetProduct(product.Id)).Within("the product after the order");
            Assert.Equal(product.Stock - 3, after.Stock);
            OrderList orders = await demo.Node.Request(DemoApp.SupplierService, new ListOrders(10)).Within("the orders");
            Assert.Equal(1, orders.Total);
            OrderRow row = Assert.Single(orders.Orders);
            Assert.Equal((receipt.OrderId, product.Id, 3, Shared.Address), (row.OrderId, row.ProductId, row.Quantity, row.ShipTo));
        }

        await using (DemoNode again = DemoNode.Start(DemoRoles.Supplier, file))
        {
            Product reopened = await again.Node.Request(DemoApp.SupplierService, new GetProduct(product.Id)).Within("the product after a restart");
            Assert.Equal(product.Stock - 3, reopened.Stock); // kept, not seeded again
            SupplierStatus status = await again.Node.Request(DemoApp.SupplierService, new GetSupplierStatus()).Within("the status after a restart");
            Assert.Equal((10_000, 1L), (status.Products, status.Orders));
        }
    }

    [Fact]
    public async Task PlaceOrder_StockShort_RefusedWithOutOfStockAndNothingChanges()
    {
        await using DemoNode demo = DemoNode.Start();
        Product product = await FirstWithStock(demo.Node, 1, below: 50);

        TetherException viaDesk = await demo.Node.Request(DemoApp.OrdersService, new PlaceOrder(product.Id, product.Stock + 1, Shared.Address), session: await demo.TokenAsync()).FailsWithin("the order for too many");
        // The supplier's own check (one UPDATE ... WHERE stock >= quantity), without the working target's early look.
        TetherException atSupplier = await demo.Node.Request(DemoApp.SupplierService, new RecordOrder(product.Id, product.Stock + 1, Shared.Address)).FailsWithin("the record for too many");

        Assert.Equal(DemoErrors.OutOfStock, viaDesk.Code);
        Assert.Equal(DemoErrors.OutOfStock, atSupplier.Code);
        Assert.Contains($"has {product.Stock} in stock", atSupplier.Message, StringComparison.Ordinal);
        Product after = await demo.Node.Request(DemoApp.SupplierService, new GetProduct(product.Id)).Within("the product after the refusals");
        Assert.Equal(product.Stock, after.Stock);
        Assert.Equal(0, (await demo.Node.Request(DemoApp.SupplierService, new ListOrders()).Within("the orders")).Total);
        TetherException unknown = await demo.Node.Request(DemoApp.OrdersService, new PlaceOrder(10_001, 1, Shared.Address), session: await demo.TokenAsync()).FailsWithin("the order for an unknown product");
        Assert.Equal(DemoErrors.UnknownProduct, unknown.Code);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task PlaceOrder_ManyAtOnceForTheLastItems_TwoSuppliersNeverOversell(int round)
    {
        _ = round;
        using var folder = new TempFolder();
        await using DemoNode demo = DemoNode.Start(DemoRoles.Dialogs | DemoRoles.Supplier, folder.File("demo.db"));
        // A second supplier on the same file, with its own connection: the service alternates between the two.
        DemoServices second = DemoApp.Start(demo.Node, DemoRoles.Supplier, new DemoOptions { DatabasePath = folder.File("demo.db") });
        Assert.NotEqual(demo.Services.Supplier, second.Supplier);
        Product product = await FirstWithStock(demo.Node, 5, below: 30);

        var orders = Enumerable.Range(0, product.Stock * 2)
            .Select(_ => demo.Node.Request(DemoApp.SupplierService, new RecordOrder(product.Id, 1, Shared.Address)).AsTask())
            .ToList();
        await Task.WhenAll(orders.Select(o => o.ContinueWith(static _ => { }, TaskScheduler.Default))).WaitAsync(Waits.Deadline);

        int recorded = orders.Count(o => o.IsCompletedSuccessfully);
        Assert.All(orders.Where(o => !o.IsCompletedSuccessfully), o => Assert.Equal(DemoErrors.OutOfStock, Assert.IsType<TetherException>(o.Exception!.InnerException).Code));
        Assert.Equal(product.Stock, recorded);
        Assert.Equal(product.Stock, orders.Where(o => o.IsCompletedSuccessfully).Select(o => o.Result.StockLeft).Distinct().Count()); // each level once
        Product after = await demo.Node.Request(DemoApp.SupplierService, new GetProduct(product.Id)).Within("the product after the rush");
        Assert.Equal(0, after.Stock);
    }

    [Fact]
    public async Task PlaceOrder_WorkingTarget_EndsOnceItAnswered()
    {
        await using DemoNode demo = DemoNode.Start();
        Product product = await FirstWithStock(demo.Node, 5);
        string token = await demo.TokenAsync(); // the session manager's targets start before the count
        int before = demo.Node.Statistics.Targets;

        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            demo.Node.Request(DemoApp.OrdersService, new PlaceOrder(product.Id, 1, Shared.Address), session: token).AsTask())).WaitAsync(Waits.Deadline);

        await Waits.Until(() => demo.Node.Statistics.Targets == before, $"the five working targets to end ({demo.Node.Statistics.Targets} targets, {before} before)");
    }

    internal static async Task<Product> FirstWithStock(Node node, int atLeast, int below = int.MaxValue)
    {
        for (int page = 0; ; page++)
        {
            ProductPage found = await node.Request(DemoApp.SupplierService, new SearchProducts(null, page, 100)).Within("a catalogue page");
            Assert.NotEmpty(found.Items);
            if (found.Items.FirstOrDefault(p => p.Stock >= atLeast && p.Stock < below) is { } product)
            {
                return product;
            }
        }
    }

    private static async Task<List<Product>> ReadAll(Node node, string? text, int pageSize = 100)
    {
        var all = new List<Product>();
        for (int page = 0; ; page++)
        {
            ProductPage found = await node.Request(DemoApp.SupplierService, new SearchProducts(text, page, pageSize)).Within($"page {page} of \"{text}\"");
            all.AddRange(found.Items);
            if (found.Items.Length < pageSize)
            {
                Assert.Equal(found.Total, all.Count);
                return all;
            }
        }
    }
}
