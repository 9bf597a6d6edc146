namespace Tether.Demo.Tests;

/// <summary>The declarative order and search rules (samples/Tether.Demo/contracts/*.yaml), enforced at the mailbox.</summary>
public sealed class ContractTests
{
    public static TheoryData<string, PlaceOrder> BrokenOrders => new()
    {
        { "quantity", new PlaceOrder(1, 0, Shared.Address) },
        { "quantity", new PlaceOrder(1, 101, Shared.Address) },
        { "productId", new PlaceOrder(0, 1, Shared.Address) },
        { "shipTo", new PlaceOrder(1, 1, null) },
        { "shipTo.name", new PlaceOrder(1, 1, Shared.Address with { Name = null }) },
        { "shipTo.name", new PlaceOrder(1, 1, Shared.Address with { Name = "A" }) },
        { "shipTo.street", new PlaceOrder(1, 1, Shared.Address with { Street = "" }) },
        { "shipTo.city", new PlaceOrder(1, 1, Shared.Address with { City = new string('x', 61) }) },
        { "shipTo.postalCode", new PlaceOrder(1, 1, Shared.Address with { PostalCode = "1" }) },
        { "shipTo.postalCode", new PlaceOrder(1, 1, Shared.Address with { PostalCode = "12345; DROP" }) },
        { "shipTo.country", new PlaceOrder(1, 1, Shared.Address with { Country = "gb" }) },
        { "shipTo.country", new PlaceOrder(1, 1, Shared.Address with { Country = "GBR" }) },
    };

    [Theory]
    [MemberData(nameof(BrokenOrders))]
    public async Task PlaceOrder_BreakingARule_RefusedAtTheMailboxNamingTheField(string field, PlaceOrder order)
    {
        await using DemoNode demo = DemoNode.Start(seed: 100);
        int targets = demo.Node.Statistics.Targets; // the supplier, the desk and the session verifier's revocation listener

        // No session: the rule is checked first, so the violation (not the missing right) is what the sender learns.
        TetherException error = await demo.Node.Request(DemoApp.OrdersService, order).FailsWithin($"the order breaking {field}");

        var violation = Assert.IsType<ContractViolationException>(error);
        Assert.Equal(ErrorCodes.ContractViolation, violation.Code);
        Assert.Equal("demo.place-order", violation.MessageType);
        Assert.Equal(field, violation.Path);
        Assert.Contains(field, violation.Message, StringComparison.Ordinal);
        Assert.Equal(targets, demo.Node.Statistics.Targets); // no working target was spawned
        Assert.Equal(0, (await demo.Node.Request(DemoApp.SupplierService, new ListOrders()).Within("the orders")).Total);
    }

    [Fact]
    public async Task RecordOrder_BreakingARule_RefusedAtTheSuppliersMailboxToo()
    {
        await using DemoNode demo = DemoNode.Start(DemoRoles.Supplier, seed: 100);
        Product before = await demo.Node.Request(DemoApp.SupplierService, new GetProduct(1)).Within("product 1");

        TetherException error = await demo.Node.Request(DemoApp.SupplierService, new RecordOrder(1, 1, Shared.Address with { Country = "Germany" })).FailsWithin("the broken record");

        var violation = Assert.IsType<ContractViolationException>(error);
        Assert.Equal(("demo.record-order", "shipTo.country"), (violation.MessageType, violation.Path));
        Product after = await demo.Node.Request(DemoApp.SupplierService, new GetProduct(1)).Within("product 1 again");
        Assert.Equal(before.Stock, after.Stock);
    }

    [Theory]
    [InlineData("pageSize", 0, 0)]
    [InlineData("pageSize", 0, 101)]
    [InlineData("page", -1, 20)]
    public async Task SearchProducts_BadPage_RefusedNamingTheField(string field, int page, int pageSize)
    {
        await using DemoNode demo = DemoNode.Start(DemoRoles.Supplier, seed: 100);

        TetherException error = await demo.Node.Request(DemoApp.SupplierService, new SearchProducts("oak", page, pageSize)).FailsWithin("the bad search");

        Assert.Equal(field, Assert.IsType<ContractViolationException>(error).Path);
    }

    [Fact]
    public async Task PlaceOrder_MeetingEveryRule_IsAccepted()
    {
        await using DemoNode demo = DemoNode.Start(seed: 100);
        Product product = await SupplierTests.FirstWithStock(demo.Node, 1);
        var edge = new ShipTo("Al", "1 A", "Ur", "D-1", "DE"); // every field at its shortest

        OrderReceipt receipt = await demo.Node.Request(DemoApp.OrdersService, new PlaceOrder(product.Id, 1, edge), session: await demo.TokenAsync()).Within("the order at the edges");

        Assert.Equal(product.Stock - 1, receipt.StockLeft);
    }

    [Fact]
    public async Task Supplier_WithoutAdapters_StillRefusesBadInputWithAClearError()
    {
        using var folder = new TempFolder();
        await using Node node = Node.Create(); // no contracts: the supplier's own checks answer
        DemoApp.Start(node, DemoRoles.Supplier, new DemoOptions { DatabasePath = folder.File("demo.db"), SeedProducts = 100 });

        TetherException page = await node.Request(DemoApp.SupplierService, new SearchProducts("oak", -1, 20)).FailsWithin("a negative page");
        TetherException size = await node.Request(DemoApp.SupplierService, new SearchProducts("oak", 0, 1000)).FailsWithin("a huge page");
        TetherException ship = await node.Request(DemoApp.SupplierService, new RecordOrder(1, 1, null)).FailsWithin("an order without an address");
        TetherException quantity = await node.Request(DemoApp.SupplierService, new RecordOrder(1, 0, Shared.Address)).FailsWithin("an order for nothing");

        Assert.All(new[] { page, size, ship, quantity }, e => Assert.Equal(ErrorCodes.BadRequest, e.Code));
        Assert.Contains("SearchProducts.Page", page.Message, StringComparison.Ordinal);
        Assert.Contains("SearchProducts.PageSize", size.Message, StringComparison.Ordinal);
        Assert.Contains("RecordOrder.ShipTo", ship.Message, StringComparison.Ordinal);
        Assert.Contains("RecordOrder.Quantity", quantity.Message, StringComparison.Ordinal);
        Assert.Equal(100, (await node.Request(DemoApp.SupplierService, new GetSupplierStatus()).Within("the supplier after bad input")).Products);
    }
}
