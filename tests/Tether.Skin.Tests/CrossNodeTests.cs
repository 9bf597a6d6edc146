using System.Diagnostics;
using Microsoft.Playwright;
using Tether.Nats;
using Tether.Skin.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Tether.Skin.Tests;

/// <summary>
/// A web node and a dialogs node meeting through a real nats-server: the dialog runs where its factory is registered,
/// talks to the renderer through its client on the web node, and ends there when the tab closes or its socket dies.
/// </summary>
public sealed class CrossNodeTests : IClassFixture<Chromium>
{
    // The claim (issue 14): a closed tab's client and dialogs are gone on every node within 1 s of the socket closing;
    // a socket that just dies, within the ping timeout + 1 s. The deadlines below are those claims, not more.
    private static readonly TimeSpan s_closeClaim = TimeSpan.FromSeconds(1);
    private readonly Chromium _chromium;

    static CrossNodeTests() => SetDefaultExpectTimeout(15_000);

    public CrossNodeTests(Chromium chromium) => _chromium = chromium;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task DialogOnAnotherNode_AnswersClicks_AndEndsThereWhenTheTabCloses(int round)
    {
        await using TwoNodes nodes = await TwoNodes.StartAsync();
        await using SkinHost host = await SkinHost.StartAsync(web: nodes.Web);

        IBrowserContext context = await _chromium.Browser.NewContextAsync();
        try
        {
            IPage page = await context.NewPageAsync();
            await page.GotoAsync(host.Page("counter").ToString());
            await Expect(page.Locator("[data-key=count]")).ToHaveTextAsync("0");
            await page.Locator("[data-key=add]").ClickAsync();
            await Expect(page.Locator("[data-key=count]")).ToHaveTextAsync("1");
            await page.ScreenshotAsync(new() { Path = Chromium.ScreenshotPath(nameof(DialogOnAnotherNode_AnswersClicks_AndEndsThereWhenTheTabCloses), $"round{round}-clicked") });
            Assert.Equal(1, Dialog.LiveOn(nodes.Dialogs));
            Assert.Equal(0, Dialog.LiveOn(nodes.Web));
            Assert.Equal(1, host.Server.Statistics.OpenDialogs);

            long closed = Stopwatch.GetTimestamp();
            await page.CloseAsync();
            await Eventually.Until(() => host.Server.Statistics.Clients == 0 && Dialog.LiveOn(nodes.Dialogs) == 0, s_closeClaim, $"round {round}: the client on the web node and its dialog on the dialogs node ended");
            Assert.True(Stopwatch.GetElapsedTime(closed) < s_closeClaim);
        }
        finally
        {
            await context.CloseAsync();
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

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task SocketThatJustDies_EndsItsClientAndTheDialogOnTheOtherNode_WithinThePingTimeoutPlusOneSecond(int round)
    {
        TimeSpan pingTimeout = TimeSpan.FromSeconds(2);
        await using TwoNodes nodes = await TwoNodes.StartAsync();
        await using SkinHost host = await SkinHost.StartAsync(SkinHost.DefaultOptions with { PingTimeout = pingTimeout }, web: nodes.Web);
        await using var relay = new TcpRelay(host.BaseUri);
        (RawClient client, int dialog, _) = await RawClient.OpenAsync(host, "counter", "counter", relay.Route);
        try
        {
            await client.SendAsync($$"""{"t":"event","d":{{dialog}},"kind":"click","key":"add"}""");
            await client.ExpectAsync("patch"); // alive, through the relay, with its dialog on the other node
            Assert.Equal(1, Dialog.LiveOn(nodes.Dialogs));
            Assert.Equal(1, host.Server.Statistics.Connections);

            // The socket dies: no close frame, no FIN, no RST; the last sign of life was the click just before.
            relay.Freeze();
            long died = Stopwatch.GetTimestamp();
            await Eventually.Until(
                () => host.Server.Statistics is { Clients: 0, OpenDialogs: 0 } && Dialog.LiveOn(nodes.Dialogs) == 0,
                pingTimeout + s_closeClaim,
                $"round {round}: the dead socket's client (web node) and dialog (dialogs node) ended within the ping timeout ({pingTimeout.TotalSeconds} s) + 1 s");
            TimeSpan took = Stopwatch.GetElapsedTime(died);
            Assert.True(took >= pingTimeout - TimeSpan.FromMilliseconds(100), $"round {round}: ended after {took.TotalMilliseconds:F0} ms, before the ping timeout: something else closed it");
            Console.WriteLine($"round {round}: the dead socket's client and dialog ended {took.TotalMilliseconds:F0} ms after it died (ping timeout {pingTimeout.TotalMilliseconds:F0} ms)");
        }
        finally
        {
            client.Abort();
            await client.DisposeAsync();
        }
    }
}
