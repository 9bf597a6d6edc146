using System.Text.Json;
using Microsoft.Playwright;
using Tether.Skin.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Tether.Skin.Tests;

/// <summary>The renderer in a real headless Chromium against a real Kestrel: views, events, keyed patches, sessions.</summary>
public sealed class RendererTests : IClassFixture<Chromium>
{
    private readonly Chromium _chromium;

    static RendererTests()
    {
        // Generous: two cores are shared by several builds; every wait still ends as soon as the page shows the state.
        SetDefaultExpectTimeout(15_000);
    }

    public RendererTests(Chromium chromium) => _chromium = chromium;

    [Fact]
    public async Task Counter_Click_PatchesTheTextAndShowsAToast()
    {
        await using SkinHost host = await SkinHost.StartAsync();
        await RunPage(host, "counter", nameof(Counter_Click_PatchesTheTextAndShowsAToast), async (page, shot) =>
        {
            await Expect(Key(page, "count")).ToHaveTextAsync("0");
            await Expect(Key(page, "session")).ToHaveTextAsync("anonymous");
            await shot("opened");
            await Key(page, "add").ClickAsync();
            await Expect(Key(page, "count")).ToHaveTextAsync("1");
            await Expect(page.Locator(".tether-toast.success")).ToHaveTextAsync("Added, now 1");
            await Key(page, "add").ClickAsync();
            await Expect(Key(page, "count")).ToHaveTextAsync("2");
            await Expect(Key(page, "history").Locator(".t-chart-last")).ToHaveTextAsync("2");
            string points = (await Key(page, "history").Locator("polyline").GetAttributeAsync("points"))!;
            Assert.Equal(3, points.Split(' ').Length); // 0, 1, 2
            await shot("clicked-twice");
        });
    }

    [Fact]
    public async Task Table_ChangingOneRow_SendsThatRowOnly_AndPagingAndTabsWork()
    {
        await using SkinHost host = await SkinHost.StartAsync();
        await RunPage(host, "table", nameof(Table_ChangingOneRow_SendsThatRowOnly_AndPagingAndTabsWork), async (page, shot) =>
        {
            await Expect(Key(page, "row-3").Locator("td").Nth(1)).ToHaveTextAsync("0");
            await Expect(page.Locator(".t-page")).ToHaveTextAsync("Page 1 of 3");
            await shot("page-1");

            // A replaced row keeps its element (updated in place): a click that began on it before the patch still lands.
            await page.EvaluateAsync("() => document.querySelector('[data-key=\"row-3\"]').tetherMark = 'kept'");
            await Key(page, "bump").ClickAsync();
            await Expect(Key(page, "row-3").Locator("td").Nth(1)).ToHaveTextAsync("1");
            Assert.Equal("kept", await page.EvaluateAsync<string?>("() => document.querySelector('[data-key=\"row-3\"]').tetherMark ?? null"));
            JsonElement patches = await page.EvaluateAsync<JsonElement>("() => window.tetherSkin.frames.filter(f => f.t === 'patch')");
            JsonElement render = patches[0];
            JsonElement bump = patches[patches.GetArrayLength() - 1];
            Assert.Equal("render", render.GetProperty("ops")[0].GetProperty("op").GetString());
            Assert.Equal(1, bump.GetProperty("ops").GetArrayLength());
            Assert.Equal("replace", bump.GetProperty("ops")[0].GetProperty("op").GetString());
            Assert.Equal("row-3", bump.GetProperty("ops")[0].GetProperty("key").GetString());
            int rowBytes = bump.GetProperty("bytes").GetInt32();
            int pageBytes = render.GetProperty("bytes").GetInt32();
            Assert.True(rowBytes < 200, $"a one-row patch took {rowBytes} bytes on the wire; it should carry that row only");
            Assert.True(rowBytes * 5 < pageBytes, $"a one-row patch ({rowBytes} bytes) should be far smaller than the page ({pageBytes} bytes)");
            Assert.Equal(10, await page.Locator("tr.t-row").CountAsync());
            await shot("row-3-bumped");

            await page.Locator(".t-next").ClickAsync();
            await Expect(page.Locator(".t-page")).ToHaveTextAsync("Page 2 of 3");
            await Expect(Key(page, "row-11")).ToBeVisibleAsync();
            await Expect(Key(page, "row-3")).ToHaveCountAsync(0);
            await page.Locator(".t-next").ClickAsync();
            await Expect(page.Locator(".t-page")).ToHaveTextAsync("Page 3 of 3");
            await Expect(page.Locator("tr.t-row")).ToHaveCountAsync(5);
            await Expect(page.Locator(".t-next")).ToBeDisabledAsync();
            await shot("page-3");

            await page.Locator(".t-tab-button[data-tab=about]").ClickAsync();
            await Expect(Key(page, "about-text")).ToBeVisibleAsync();
            await Expect(Key(page, "items")).ToBeHiddenAsync();
            await Expect(Key(page, "notes").Locator("li")).ToHaveCountAsync(2);
            await shot("about-tab");
        });
    }

    [Fact]
    public async Task Search_TypingIsDebounced_AndTheListFollows()
    {
        await using SkinHost host = await SkinHost.StartAsync();
        Interlocked.Exchange(ref SearchDialog.InputEvents, 0);
        await RunPage(host, "search", nameof(Search_TypingIsDebounced_AndTheListFollows), async (page, shot) =>
        {
            await Expect(Key(page, "results").Locator("li")).ToHaveCountAsync(8);
            await page.EvaluateAsync("() => document.querySelector('[data-key=\"w-blueberry\"]').tetherMark = 'kept'");
            await Key(page, "q").Locator("input").PressSequentiallyAsync("blueberry");
            await Expect(Key(page, "results").Locator("li")).ToHaveTextAsync(["blueberry"]);
            // The replaced list kept the item whose key stayed (children matched by key), and removed the others.
            Assert.Equal("kept", await page.EvaluateAsync<string?>("() => document.querySelector('[data-key=\"w-blueberry\"]').tetherMark ?? null"));
            await shot("typed-blueberry");
            // Nine keystrokes typed without pause, debounced by 300 ms: the dialog heard far fewer input events than keys
            // (one, unless the machine stalled the typing; never one per key).
            Assert.InRange(Volatile.Read(ref SearchDialog.InputEvents), 1, 4);
            await Key(page, "q").Locator("input").FillAsync("ap");
            await Expect(Key(page, "results").Locator("li")).ToHaveTextAsync(["apple", "apricot"]);
        });
    }

    [Fact]
    public async Task Signup_ContractViolation_ShowsAtTheField_AndAValidFormSucceeds()
    {
        await using SkinHost host = await SkinHost.StartAsync();
        await RunPage(host, "signup", nameof(Signup_ContractViolation_ShowsAtTheField_AndAValidFormSucceeds), async (page, shot) =>
        {
            await Key(page, "name").Locator("input").FillAsync("Ada");
            await Key(page, "age").Locator("input").FillAsync("12");
            await Key(page, "save").ClickAsync();
            ILocator error = Key(page, "age").Locator(".t-error");
            await Expect(error).ToHaveTextAsync("Breaks the rule range 18..120 (value: 12).");
            await Expect(Key(page, "age")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("invalid"));
            await shot("age-12-refused");

            await Key(page, "age").Locator("input").FillAsync("36");
            await Key(page, "save").ClickAsync();
            await Expect(page.Locator(".tether-toast.success")).ToHaveTextAsync("Welcome, Ada");
            await Expect(error).ToHaveTextAsync("");
            await shot("age-36-accepted");
        });
    }

    [Fact]
    public async Task ProtectedApp_RefusesAnonymousOpens_AndTheLoginGivesTheConnectionItsSession()
    {
        await using SkinHost host = await SkinHost.StartAsync();
        await RunPage(host, "shop", nameof(ProtectedApp_RefusesAnonymousOpens_AndTheLoginGivesTheConnectionItsSession), async (page, shot) =>
        {
            await Expect(page.Locator("section[data-dialog=login]")).ToBeVisibleAsync();
            await page.EvaluateAsync("() => window.tetherSkin.skin.send({ t: 'open', dialog: 'counter' })");
            await Expect(page.Locator(".tether-error[data-code=unauthenticated]")).ToContainTextAsync("requires signing in");
            Assert.Equal(1, host.Server.Statistics.OpenDialogs);
            await shot("anonymous-refused");

            await Key(page, "user").Locator("input").FillAsync("ada");
            await Key(page, "password").Locator("input").FillAsync("wrong");
            await Key(page, "signin").ClickAsync();
            await Expect(Key(page, "password").Locator(".t-error")).ToHaveTextAsync("Wrong user or password.");

            await Key(page, "password").Locator("input").FillAsync("secret");
            await Key(page, "signin").ClickAsync();
            // The login dialog told its client the token; the client now opens what it refused before.
            await Expect(page.Locator("section[data-dialog=counter]")).ToBeVisibleAsync();
            await Expect(page.Locator("section[data-dialog=login]")).ToHaveCountAsync(0);
            await Eventually.Until(() => host.Server.Statistics is { OpenDialogs: 1, LocalDialogs: 1 }, TimeSpan.FromSeconds(10), "only the counter dialog is open after the login dialog closed itself");
            await shot("signed-in");
        });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ClosingTheTab_EndsTheClientAndItsDialogs_WithinOneSecond(int round)
    {
        await using SkinHost host = await SkinHost.StartAsync();
        IBrowserContext context = await _chromium.Browser.NewContextAsync();
        try
        {
            IPage first = await context.NewPageAsync();
            IPage second = await context.NewPageAsync();
            await first.GotoAsync(host.Page("table").ToString());
            await second.GotoAsync(host.Page("counter").ToString());
            await Expect(Key(first, "row-1")).ToBeVisibleAsync();
            await Expect(Key(second, "count")).ToHaveTextAsync("0");
            await Eventually.Until(() => host.Server.Statistics is { Clients: 2, LocalDialogs: 2, OpenDialogs: 2 }, TimeSpan.FromSeconds(10), $"round {round}: two clients with one dialog each");
            await first.ScreenshotAsync(new() { Path = Chromium.ScreenshotPath(nameof(ClosingTheTab_EndsTheClientAndItsDialogs_WithinOneSecond), $"round{round}-before-close") });

            await first.CloseAsync();
            TimeSpan took = await Eventually.Until(() => host.Server.Statistics is { Clients: 1, LocalDialogs: 1, OpenDialogs: 1, Connections: 1 }, TimeSpan.FromSeconds(1), $"round {round}: the closed tab's client and dialog ended");
            Assert.True(took < TimeSpan.FromSeconds(1), $"took {took}");

            // The other tab keeps working.
            await Key(second, "add").ClickAsync();
            await Expect(Key(second, "count")).ToHaveTextAsync("1");
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    private static ILocator Key(IPage page, string key) => page.Locator($"[data-key=\"{key}\"]");

    private async Task RunPage(SkinHost host, string app, string test, Func<IPage, Func<string, Task>, Task> steps)
    {
        IBrowserContext context = await _chromium.Browser.NewContextAsync();
        IPage page = await context.NewPageAsync();
        var console = new List<string>();
        page.Console += (_, m) => console.Add($"{m.Type}: {m.Text}");
        page.PageError += (_, e) => console.Add($"page error: {e}");
        try
        {
            await page.GotoAsync(host.Page(app).ToString());
            await steps(page, step => page.ScreenshotAsync(new() { Path = Chromium.ScreenshotPath(test, step) }));
            Assert.DoesNotContain(console, line => line.StartsWith("page error", StringComparison.Ordinal));
        }
        catch (Exception ex)
        {
            await page.ScreenshotAsync(new() { Path = Chromium.ScreenshotPath(test, "failed") });
            throw new Xunit.Sdk.XunitException($"{test} failed: {ex.Message}\nbrowser console:\n{string.Join('\n', console)}\n(screenshot {Chromium.ScreenshotPath(test, "failed")})");
        }
        finally
        {
            await context.CloseAsync();
        }
    }
}
