using System.Globalization;
using Microsoft.Playwright;
using Tether.Testing;
using static Microsoft.Playwright.Assertions;

namespace Tether.Pods.Tests;

/// <summary>
/// The demo's browser journey (sign in, search, order) on each layout run as local pods: every pod runs the demo
/// application itself (<c>tether node --module Tether.Demo.dll</c>, the pod's roles from the layout, the configuration
/// every layout shares), real nats-servers (a leaf per pod, a three-server hub), and Chromium in the host's namespace
/// reaching the web pod's page through a namespace forwarder. Screenshots of every step:
/// tests/Tether.Pods.Tests/bin/Release/net10.0/artifacts/screenshots/.
/// </summary>
[Collection(PodsCollection.Name)]
public sealed class LayoutJourneyTests : IClassFixture<Chromium>
{
    private readonly Chromium _browser;

    static LayoutJourneyTests()
    {
        // Generous: two cores are shared by several builds and several node processes; every wait still ends as soon
        // as the page shows the state.
        SetDefaultExpectTimeout(30_000);
    }

    public LayoutJourneyTests(Chromium browser) => _browser = browser;

    [Theory]
    [InlineData("one-pod")]
    [InlineData("two-pod")]
    [InlineData("three-pod")]
    public async Task Layout_DemoJourney_LoginSearchOrder_PassesInTheBrowser(string layout)
    {
        await using PodsRun run = await PodsRun.StartDemoAsync(layout);
        IBrowserContext context = await _browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1100, Height = 800 } });
        IPage page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        Func<string, Task> shot = step => page.ScreenshotAsync(new() { Path = Chromium.ScreenshotPath(layout, step), FullPage = true });
        try
        {
            // Sign in (the session manager's pod), a wrong password refused at the form first.
            await page.GotoAsync(run.WebUrl.ToString());
            ILocator login = page.Locator("section[data-dialog=login]");
            await Expect(login).ToBeVisibleAsync();
            await shot("1-login");
            await Field(login, "user").FillAsync("demo");
            await Field(login, "password").FillAsync("not-the-password");
            await Key(login, "signin").ClickAsync();
            await Expect(Key(login, "password").Locator(".t-error")).ToContainTextAsync("unauthenticated");
            await Field(login, "password").FillAsync("tether-demo");
            await Key(login, "signin").ClickAsync();
            ILocator catalogue = page.Locator("section[data-dialog=catalogue]");
            await Expect(catalogue).ToBeVisibleAsync();
            await Expect(catalogue.Locator("tr.t-row")).ToHaveCountAsync(20);
            await shot("2-catalogue");

            // Search (the supplier's pod): a product with stock for the order.
            // The hint names the text its rows were found for: waiting for it waits for the search, not for rows
            // that an earlier search drew (a row clicked while the search redraws it could move under the pointer).
            await Field(catalogue, "q").PressSequentiallyAsync("oak chair");
            await Expect(Key(catalogue, "hint")).ToContainTextAsync("match \"oak chair\"");
            await Expect(catalogue.Locator("tr.t-row").First).ToContainTextAsync("Oak Chair");
            (string row, string name, int stock) = await FirstInStockAsync(catalogue);
            await Field(catalogue, "q").FillAsync(name);
            await Expect(Key(catalogue, "hint")).ToContainTextAsync($"match \"{name}\"");
            await Expect(Key(catalogue, row)).ToBeVisibleAsync();
            await shot("3-searched");

            // Order (the order desk beside the dialogs, recorded by the supplier): the new stock shows in the
            // catalogue without a reload (the stock topic, across pods).
            await Key(catalogue, row).ClickAsync();
            ILocator order = page.Locator("section[data-dialog=order]");
            await Expect(order).ToBeVisibleAsync();
            await Expect(Key(order, "title")).ToContainTextAsync(name);
            await Field(order, "quantity").FillAsync("2");
            await Field(order, "name").FillAsync("Ada Lovelace");
            await Field(order, "street").FillAsync("1 Analytical Way");
            await Field(order, "city").FillAsync("London");
            await Field(order, "postalCode").FillAsync("NW1 2AB");
            await Field(order, "country").FillAsync("GB");
            await Key(order, "place").ClickAsync();
            string left = (stock - 2).ToString(CultureInfo.InvariantCulture);
            await Expect(page.Locator(".tether-toast.success")).ToContainTextAsync($"2 x {name}");
            await Expect(Key(order, "result")).ToContainTextAsync($"{left} left");
            await Expect(Key(catalogue, row).Locator("td").Nth(4)).ToHaveTextAsync(left);
            await shot("4-ordered");
            Assert.Empty(errors);
        }
        catch (Exception ex)
        {
            await page.ScreenshotAsync(new() { Path = Chromium.ScreenshotPath(layout, "failed") });
            throw new Xunit.Sdk.XunitException($"{layout}: the journey failed: {ex.Message}\npage errors: {string.Join('\n', errors)}\n(screenshots in {Path.GetDirectoryName(Chromium.ScreenshotPath(layout, "x"))})\n{run.Logs()}");
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    /// <summary>The first row shown with at least 5 in stock: its key, product name and stock.</summary>
    private static async Task<(string Row, string Name, int Stock)> FirstInStockAsync(ILocator catalogue)
    {
        ILocator rows = catalogue.Locator("tr.t-row");
        int count = await rows.CountAsync();
        for (int i = 0; i < count; i++)
        {
            ILocator cells = rows.Nth(i).Locator("td");
            int stock = int.Parse(await cells.Nth(4).InnerTextAsync(), CultureInfo.InvariantCulture);
            if (stock >= 5)
            {
                string row = await rows.Nth(i).GetAttributeAsync("data-key") ?? throw new Xunit.Sdk.XunitException("a catalogue row without data-key");
                return (row, (await cells.Nth(1).InnerTextAsync()).Trim(), stock);
            }
        }

        throw new Xunit.Sdk.XunitException($"none of the {count} oak chairs shown has 5 in stock");
    }

    private static ILocator Key(ILocator scope, string key) => scope.Locator($"[data-key=\"{key}\"]");

    private static ILocator Field(ILocator scope, string key) => Key(scope, key).Locator("input");
}
