namespace Tether.Demo.Tests;

/// <summary>The README's demo snippet, as written there (only the file lives in a temp folder).</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task ReadmeSnippet_SearchThenOrder_Works()
    {
        using var folder = new TempFolder();
        string shopDb = folder.File("shop.db");

        await using Node node = Node.Create(new NodeOptions { Name = "shop", Adapters = DemoApp.CreateAdapters() });
        DemoApp.Start(node, DemoRoles.All, new DemoOptions { DatabasePath = shopDb });   // or Supplier / Dialogs / Web
        ProductPage page = await node.Request(DemoApp.SupplierService, new SearchProducts("oak cha", Page: 0, PageSize: 20));
        OrderReceipt receipt = await node.Request(DemoApp.OrdersService,
            new PlaceOrder(page.Items[0].Id, 2, new ShipTo("Ada Lovelace", "12 Analytical Way", "London", "NW1 2AB", "GB")));

        Assert.All(page.Items, p => Assert.Contains(" Oak Cha", p.Name, StringComparison.Ordinal));
        Assert.Equal(page.Items[0].Stock - 2, receipt.StockLeft);
    }
}
