using Tether.Sessions;

namespace Tether.Demo.Tests;

/// <summary>The README's demo snippet, as written there (only the file lives in a temp folder).</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task ReadmeSnippet_SearchThenOrder_Works()
    {
        using var folder = new TempFolder();
        string shopDb = folder.File("shop.db");

        var options = new DemoOptions { DatabasePath = shopDb };
        SessionVerifier verifier = DemoApp.CreateVerifier(options);
        await using Node node = Node.Create(new NodeOptions { Name = "shop", Adapters = DemoApp.CreateAdapters(), Sessions = verifier });
        verifier.Attach(node);
        await using DemoRun shop = await DemoApp.StartAsync(node, DemoRoles.Supplier | DemoRoles.Dialogs | DemoRoles.Sessions, options);   // add Web for the browser UI
        ProductPage page = await node.Request(DemoApp.SupplierService, new SearchProducts("oak cha", Page: 0, PageSize: 20));
        LoginResult login = await node.Request(DemoApp.SessionsService, new Login(DemoApp.DemoUser, DemoApp.DemoPassword));
        OrderReceipt receipt = await node.Request(DemoApp.OrdersService,
            new PlaceOrder(page.Items[0].Id, 2, new ShipTo("Ada Lovelace", "12 Analytical Way", "London", "NW1 2AB", "GB")), session: login.Token);   // the desk requires orders.place

        Assert.All(page.Items, p => Assert.Contains(" Oak Cha", p.Name, StringComparison.Ordinal));
        Assert.Equal(page.Items[0].Stock - 2, receipt.StockLeft);
    }
}
