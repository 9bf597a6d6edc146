namespace Tether.Demo.Tests;

/// <summary>The supplier on a real PostgreSQL server: the same answers as on SQLite, and atomic stock across connections.</summary>
public sealed class PostgresSupplierTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private readonly PostgresServer _postgres = postgres.Server;

    [Fact]
    public async Task Search_SameQueries_SameAnswersAsSqlite()
    {
        string database = await _postgres.CreateDatabaseAsync("demo");
        await using DemoNode pg = DemoNode.Start(DemoRoles.Supplier, postgres: database);
        await using DemoNode lite = DemoNode.Start(DemoRoles.Supplier);

        SupplierStatus status = await pg.Node.Request(DemoApp.SupplierService, new GetSupplierStatus()).Within("the PostgreSQL supplier's status");
        Assert.StartsWith("PostgreSQL 127.0.0.1:", status.Database, StringComparison.Ordinal);
        Assert.DoesNotContain("Username", status.Database, StringComparison.Ordinal);
        Assert.Equal(10_000, status.Products);
        foreach (string? text in new[] { null, "oak", "oak cha", "Kitch", "LAMP brass", "walnut-shelf", "zzz", "ligh sconce mod", "2" })
        {
            foreach ((int page, int size) in new[] { (0, 25), (1, 25), (3, 7), (399, 25) })
            {
                ProductPage expected = await lite.Node.Request(DemoApp.SupplierService, new SearchProducts(text, page, size)).Within($"SQLite \"{text}\" page {page}");
                ProductPage actual = await pg.Node.Request(DemoApp.SupplierService, new SearchProducts(text, page, size)).Within($"PostgreSQL \"{text}\" page {page}");

                Assert.Equal(expected.Total, actual.Total);
                Assert.Equal(expected.Items, actual.Items);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task RecordOrder_ManyAtOnceOnTwoConnections_NeverOversellsAndSurvivesARestart(int round)
    {
        _ = round;
        string database = await _postgres.CreateDatabaseAsync("demo");
        Product product;
        await using (DemoNode demo = DemoNode.Start(DemoRoles.Dialogs | DemoRoles.Supplier, postgres: database))
        {
            DemoApp.Start(demo.Node, DemoRoles.Supplier, new DemoOptions { PostgresConnection = database }); // a second connection
            product = await SupplierTests.FirstWithStock(demo.Node, 5, below: 30);
            var orders = Enumerable.Range(0, product.Stock * 2)
                .Select(_ => demo.Node.Request(DemoApp.SupplierService, new RecordOrder(product.Id, 1, Shared.Address)).AsTask())
                .ToList();
            await Task.WhenAll(orders.Select(o => o.ContinueWith(static _ => { }, TaskScheduler.Default))).WaitAsync(Waits.Deadline);

            Assert.Equal(product.Stock, orders.Count(o => o.IsCompletedSuccessfully));
            Assert.All(orders.Where(o => !o.IsCompletedSuccessfully), o => Assert.Equal(DemoErrors.OutOfStock, Assert.IsType<TetherException>(o.Exception!.InnerException).Code));
            TetherException viaDesk = await demo.Node.Request(DemoApp.OrdersService, new PlaceOrder(product.Id, 1, Shared.Address), session: await demo.TokenAsync()).FailsWithin("an order for the sold-out product");
            Assert.Equal(DemoErrors.OutOfStock, viaDesk.Code);
        }

        await using DemoNode again = DemoNode.Start(DemoRoles.Supplier, postgres: database);
        Assert.Equal(0, (await again.Node.Request(DemoApp.SupplierService, new GetProduct(product.Id)).Within("the product after a restart")).Stock);
        OrderList list = await again.Node.Request(DemoApp.SupplierService, new ListOrders(500)).Within("the orders after a restart");
        Assert.Equal(product.Stock, list.Total);
        Assert.All(list.Orders, o => Assert.Equal((product.Id, Shared.Address), (o.ProductId, o.ShipTo)));
        Assert.Equal(10_000, (await again.Node.Request(DemoApp.SupplierService, new GetSupplierStatus()).Within("the status after a restart")).Products);
    }
}
