using System.Diagnostics;
using Microsoft.Playwright;
using Tether.Nats;
using Tether.Skin.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Tether.Skin.Tests;

/// <summary>
/// A web node and a dialogs node meeting through a real nats-server: the dialog runs where its factory is registered,
/// talks to the renderer through its client on the web node, and ends there when the tab closes.
/// </summary>
public sealed class CrossNodeTests : IClassFixture<Chromium>
{
    private readonly Chromium _chromium;

    static CrossNodeTests() => SetDefaultExpectTimeout(15_000);

    public CrossNodeTests(Chromium chromium) => _chromium = chromium;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task DialogOnAnotherNode_AnswersClicks_AndEndsThereWhenTheTabCloses(int round)
    {
        using NatsServer nats = await NatsServer.StartAsync();
        Node dialogs = Node.Create(new NodeOptions { Name = "dialogs", Adapters = SkinHost.Adapters() });
        Node web = Node.Create(new NodeOptions { Name = "web", Adapters = SkinHost.Adapters() });
        await using BrokerProxy dialogsProxy = await BrokerProxy.AttachAsync(dialogs, new BrokerOptions { Url = nats.Url, Contracts = Contracts() });
        await using BrokerProxy webProxy = await BrokerProxy.AttachAsync(web, new BrokerOptions { Url = nats.Url, Contracts = Contracts() });
        try
        {
            SkinHost.RegisterDialogs(dialogs);
            await Eventually.Until(() => webProxy.Peers.Count == 1 && dialogsProxy.Peers.Count == 1, TimeSpan.FromSeconds(10), "the two nodes heard each other");
            await using SkinHost host = await SkinHost.StartAsync(web: web);

            IBrowserContext context = await _chromium.Browser.NewContextAsync();
            try
            {
                IPage page = await context.NewPageAsync();
                await page.GotoAsync(host.Page("counter").ToString());
                await Expect(page.Locator("[data-key=count]")).ToHaveTextAsync("0");
                await page.Locator("[data-key=add]").ClickAsync();
                await Expect(page.Locator("[data-key=count]")).ToHaveTextAsync("1");
                await page.ScreenshotAsync(new() { Path = Chromium.ScreenshotPath(nameof(DialogOnAnotherNode_AnswersClicks_AndEndsThereWhenTheTabCloses), $"round{round}-clicked") });
                Assert.Equal(1, Dialog.LiveOn(dialogs));
                Assert.Equal(0, Dialog.LiveOn(web));
                Assert.Equal(1, host.Server.Statistics.OpenDialogs);

                long closed = Stopwatch.GetTimestamp();
                await page.CloseAsync();
                await Eventually.Until(() => host.Server.Statistics.Clients == 0 && Dialog.LiveOn(dialogs) == 0, TimeSpan.FromSeconds(1), $"round {round}: the client on the web node and its dialog on the dialogs node ended");
                Assert.True(Stopwatch.GetElapsedTime(closed) < TimeSpan.FromSeconds(1));
            }
            finally
            {
                await context.CloseAsync();
            }
        }
        finally
        {
            await dialogs.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task DialogOnAnotherNode_ThatClosesItself_IsShownClosed(int round)
    {
        using NatsServer nats = await NatsServer.StartAsync();
        Node dialogs = Node.Create(new NodeOptions { Name = "dialogs", Adapters = SkinHost.Adapters() });
        Node web = Node.Create(new NodeOptions { Name = "web", Adapters = SkinHost.Adapters() });
        await using BrokerProxy dialogsProxy = await BrokerProxy.AttachAsync(dialogs, new BrokerOptions { Url = nats.Url, Contracts = Contracts() });
        await using BrokerProxy webProxy = await BrokerProxy.AttachAsync(web, new BrokerOptions { Url = nats.Url, Contracts = Contracts() });
        try
        {
            SkinHost.RegisterDialogs(dialogs);
            await Eventually.Until(() => webProxy.Peers.Count == 1 && dialogsProxy.Peers.Count == 1, TimeSpan.FromSeconds(10), "the two nodes heard each other");
            await using SkinHost host = await SkinHost.StartAsync(web: web);

            IBrowserContext context = await _chromium.Browser.NewContextAsync();
            try
            {
                IPage page = await context.NewPageAsync();
                await page.GotoAsync(host.Page("counter").ToString());
                await Expect(page.Locator("[data-key=count]")).ToHaveTextAsync("0");
                Assert.Equal(1, Dialog.LiveOn(dialogs));
                await Expect(page.Locator("section[data-dialog=counter]")).ToHaveCountAsync(1);

                // The dialog ends itself on the dialogs node; its client on the web node watches it and tells the page.
                await page.Locator("[data-key=close]").ClickAsync();

                await Expect(page.Locator("section[data-dialog=counter]")).ToHaveCountAsync(0);
                await Eventually.Until(() => host.Server.Statistics.OpenDialogs == 0 && Dialog.LiveOn(dialogs) == 0, TimeSpan.FromSeconds(10), $"round {round}: the dialog ended on its node and the web node counts it closed");
                Assert.Equal(1, host.Server.Statistics.Clients); // the client stays
            }
            finally
            {
                await context.CloseAsync();
            }
        }
        finally
        {
            await dialogs.DisposeAsync();
        }
    }

    private static ContractRegistry Contracts() => new ContractRegistry().RegisterSkin().Register<Signup>("test.signup");
}
