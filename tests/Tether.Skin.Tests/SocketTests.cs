using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Tether.Skin.Tests.Support;

namespace Tether.Skin.Tests;

/// <summary>Bad input from a browser over a raw socket: each answered as stated, counted, and nobody else disturbed.</summary>
public sealed class SocketTests
{
    [Fact]
    public async Task MalformedJson_IsAnsweredWithAnErrorFrame_AndTheConnectionAndOthersKeepWorking()
    {
        await using SkinHost host = await SkinHost.StartAsync();
        (RawClient bad, int badDialog, _) = await RawClient.OpenAsync(host, "counter", "counter");
        (RawClient good, int goodDialog, _) = await RawClient.OpenAsync(host, "counter", "counter");
        await using (bad)
        await using (good)
        {
            string[] frames = ["{not json", "[1,2,3]", "{\"t\":42}", "{\"t\":\"dance\"}", "{\"t\":\"event\",\"d\":\"x\",\"kind\":\"click\",\"key\":\"add\"}", "{\"t\":\"event\",\"d\":1,\"kind\":\"click\"}", "{\"t\":\"event\",\"d\":1,\"kind\":\"submit\",\"key\":\"f\",\"form\":{\"a\":{\"b\":1}}}"];
            string[] expected = ["not JSON", "must be a JSON object", "\"t\"", "Unknown frame type \"dance\"", "\"d\" must be the dialog's id", "\"key\" is required", "event.form.a must be text"];
            for (int i = 0; i < frames.Length; i++)
            {
                await bad.SendAsync(frames[i]);
                JsonElement error = await bad.ExpectAsync("error");
                Assert.Equal("bad-frame", error.GetProperty("code").GetString());
                Assert.Contains(expected[i], error.GetProperty("text").GetString(), StringComparison.Ordinal);
            }

            await bad.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary);
            Assert.Contains("Binary frames", (await bad.ExpectAsync("error")).GetProperty("text").GetString(), StringComparison.Ordinal);
            Assert.Equal(frames.Length + 1, host.Server.Statistics.BadFrames);

            // The same connection still works, and so does the other one.
            await AssertClickWorks(bad, badDialog, "1");
            await AssertClickWorks(good, goodDialog, "1");
        }
    }

    [Fact]
    public async Task OversizedFrame_ClosesThatSocketWith1009_AndOthersKeepWorking()
    {
        await using SkinHost host = await SkinHost.StartAsync(SkinHost.DefaultOptions with { MaxFrameBytes = 4096 });
        (RawClient bad, _, _) = await RawClient.OpenAsync(host, "counter", "counter");
        (RawClient good, int goodDialog, _) = await RawClient.OpenAsync(host, "counter", "counter");
        await using (bad)
        await using (good)
        {
            string big = "{\"t\":\"event\",\"d\":1,\"kind\":\"input\",\"key\":\"q\",\"value\":\"" + new string('x', 10_000) + "\"}";
            await bad.SendAsync(big);
            Assert.Equal(WebSocketCloseStatus.MessageTooBig, await bad.ExpectCloseAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains("4096", bad.CloseText, StringComparison.Ordinal);
            Assert.Equal(1, host.Server.Statistics.BadFrames);
            await Eventually.Until(() => host.Server.Statistics is { Clients: 1, OpenDialogs: 1, LocalDialogs: 1 }, TimeSpan.FromSeconds(5), "the oversized client ended with its dialog");
            await AssertClickWorks(good, goodDialog, "1");
        }
    }

    [Fact]
    public async Task UnknownDialogId_AndEventsForAnEndedDialog_AreAnsweredByName()
    {
        await using SkinHost host = await SkinHost.StartAsync();
        (RawClient client, int dialog, _) = await RawClient.OpenAsync(host, "counter", "counter");
        await using (client)
        {
            await client.SendAsync("""{"t":"event","d":99,"kind":"click","key":"add"}""");
            JsonElement unknown = await client.ExpectAsync("error");
            Assert.Equal("no-such-dialog", unknown.GetProperty("code").GetString());
            Assert.Contains("no dialog 99", unknown.GetProperty("text").GetString(), StringComparison.Ordinal);

            await client.SendAsync($$"""{"t":"event","d":{{dialog}},"kind":"click","key":"close"}""");
            JsonElement closed = await client.ExpectAsync("closed");
            Assert.Equal(dialog, closed.GetProperty("d").GetInt32());
            await Eventually.Until(() => host.Server.Statistics is { OpenDialogs: 0, LocalDialogs: 0, Clients: 1 }, TimeSpan.FromSeconds(5), "the dialog ended, its client lives on");

            await client.SendAsync($$"""{"t":"event","d":{{dialog}},"kind":"click","key":"add"}""");
            JsonElement ended = await client.ExpectAsync("error");
            Assert.Equal("dialog-ended", ended.GetProperty("code").GetString());
            Assert.Equal(dialog, ended.GetProperty("d").GetInt32());

            await client.SendAsync("""{"t":"open","dialog":"nonesuch","ref":"r9"}""");
            JsonElement noName = await client.ExpectAsync("error");
            Assert.Equal("no-such-dialog", noName.GetProperty("code").GetString());
            Assert.Equal("r9", noName.GetProperty("ref").GetString());
            Assert.Equal(3, host.Server.Statistics.BadFrames);

            // It can still open a dialog and use it.
            await client.SendAsync("""{"t":"open","dialog":"counter","ref":"again"}""");
            int second = (await client.ExpectAsync("opened")).GetProperty("d").GetInt32();
            Assert.True(second > dialog);
            Assert.Equal("render", (await client.ExpectAsync("patch")).GetProperty("ops")[0].GetProperty("op").GetString());
            await AssertClickWorks(client, second, "1");
        }
    }

    [Fact]
    public async Task UiEvent_ThatBreaksItsContract_IsRefusedToTheBrowserByRule_AndNeverReachesTheDialog()
    {
        await using SkinHost host = await SkinHost.StartAsync();
        (RawClient client, int dialog, _) = await RawClient.OpenAsync(host, "counter", "counter");
        await using (client)
        {
            await client.SendAsync($$"""{"t":"event","d":{{dialog}},"kind":"click","key":"add","value":"{{new string('v', 150)}}"}""");
            JsonElement error = await client.ExpectAsync("error");
            Assert.Equal("contract-violation", error.GetProperty("code").GetString());
            Assert.Equal(dialog, error.GetProperty("d").GetInt32());
            Assert.Contains("skin.event.value", error.GetProperty("text").GetString(), StringComparison.Ordinal);
            Assert.Contains("length", error.GetProperty("text").GetString(), StringComparison.Ordinal);
            Assert.Equal(1, host.Server.Statistics.BadFrames);

            // The refused click never counted: the next one makes the count 1.
            await AssertClickWorks(client, dialog, "1");
        }
    }

    [Fact]
    public async Task OpeningADialogWhoseFactoryIsNowhere_IsAnsweredWithTheCode_AndTheClientGoesOn()
    {
        SkinOptions options = SkinHost.DefaultOptions with
        {
            Applications = [.. SkinHost.DefaultOptions.Applications, SkinHost.App("broken", "counter").WithDialog("ghost", "no-factory-here")],
        };
        await using SkinHost host = await SkinHost.StartAsync(options);
        (RawClient client, int dialog, _) = await RawClient.OpenAsync(host, "broken", "counter");
        await using (client)
        {
            await client.SendAsync("""{"t":"open","dialog":"ghost","ref":"g"}""");
            JsonElement error = await client.ExpectAsync("error");
            Assert.Equal("no-such-service", error.GetProperty("code").GetString());
            Assert.Equal("g", error.GetProperty("ref").GetString());
            Assert.Contains("\"ghost\" could not be opened", error.GetProperty("text").GetString(), StringComparison.Ordinal);
            Assert.Equal(1, host.Server.Statistics.OpenDialogs);
            await AssertClickWorks(client, dialog, "1");
        }
    }

    [Fact]
    public async Task ConnectingToAStoppedNode_IsClosedWith1001_NamingTheCode()
    {
        await using SkinHost host = await SkinHost.StartAsync();
        await host.Node.StopAsync();
        await using RawClient client = await RawClient.ConnectAsync(host, "counter");
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await client.ExpectCloseAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("node-stopping", client.CloseText);
        Assert.Equal(0, host.Server.Statistics.Clients);
    }

    [Fact]
    public async Task ProtectedApp_RefusesAnonymousOpensOfAnythingButItsLoginDialog()
    {
        await using SkinHost host = await SkinHost.StartAsync();
        await using RawClient client = await RawClient.ConnectAsync(host, "shop");
        await client.ExpectAsync("welcome");
        await client.SendAsync("""{"t":"open","dialog":"counter","ref":"x"}""");
        JsonElement refused = await client.ExpectAsync("error");
        Assert.Equal("unauthenticated", refused.GetProperty("code").GetString());
        Assert.Equal(0, host.Server.Statistics.OpenDialogs);
        await client.SendAsync("""{"t":"open","dialog":"login","ref":"y"}""");
        Assert.Equal("y", (await client.ExpectAsync("opened")).GetProperty("ref").GetString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Flood_IsRateLimitedThenClosedWith1008_WhileAnotherClientKeepsWorking(int round)
    {
        await using SkinHost host = await SkinHost.StartAsync(SkinHost.DefaultOptions with { EventsPerSecond = 20, EventBurst = 20, FloodCloseAfter = 100 });
        (RawClient flooder, int dialog, _) = await RawClient.OpenAsync(host, "counter", "counter");
        (RawClient good, int goodDialog, _) = await RawClient.OpenAsync(host, "counter", "counter");
        await using (flooder)
        await using (good)
        {
            byte[] click = Encoding.UTF8.GetBytes($$"""{"t":"event","d":{{dialog}},"kind":"click","key":"add"}""");
            Task receive = Task.Run(async () =>
            {
                bool sawLimit = false;
                while (await flooder.ReceiveAsync(TimeSpan.FromSeconds(20)) is { } frame)
                {
                    if (frame.GetProperty("t").GetString() == "error" && frame.GetProperty("code").GetString() == "rate-limited")
                    {
                        sawLimit = true;
                    }
                }

                Assert.True(sawLimit, $"round {round}: the flooder was told it is rate limited before the close");
            });
            try
            {
                for (int i = 0; i < 1000 && flooder.State == WebSocketState.Open; i++)
                {
                    await flooder.SendAsync(click);
                }
            }
            catch (WebSocketException)
            {
                // The server closed the socket mid-flood: expected.
            }

            await receive;
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, flooder.CloseStatus);
            Assert.Contains("flood", flooder.CloseText, StringComparison.Ordinal);
            Assert.True(host.Server.Statistics.RateLimited >= 100, $"round {round}: {host.Server.Statistics.RateLimited} frames counted as rate limited");
            await AssertClickWorks(good, goodDialog, "1");
        }
    }

    [Fact]
    public async Task OriginFromAnotherSite_IsRefusedAtTheUpgrade_AndCounted()
    {
        await using SkinHost host = await SkinHost.StartAsync(SkinHost.DefaultOptions with { AllowedOrigins = ["http://allowed.example"] });
        WebSocketException refused = await Assert.ThrowsAsync<WebSocketException>(() => RawClient.ConnectAsync(host, "counter", origin: "http://evil.example"));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, host.Server.Statistics.OriginsRefused);
        Assert.Equal(0, host.Server.Statistics.Clients);

        await using RawClient own = await RawClient.ConnectAsync(host, "counter", origin: host.BaseUri.GetLeftPart(UriPartial.Authority));
        await own.ExpectAsync("welcome");
        await using RawClient listed = await RawClient.ConnectAsync(host, "counter", origin: "http://allowed.example");
        await listed.ExpectAsync("welcome");
    }

    [Fact]
    public async Task SilentClient_IsClosedAfterThePingTimeout_AndItsDialogsEnd()
    {
        await using SkinHost host = await SkinHost.StartAsync(SkinHost.DefaultOptions with { PingTimeout = TimeSpan.FromMilliseconds(600) });
        (RawClient silent, _, _) = await RawClient.OpenAsync(host, "counter", "counter");
        await using (silent)
        {
            silent.AnswerPings = false;
            long quiet = System.Diagnostics.Stopwatch.GetTimestamp(); // its last frame (the open) came before this
            Assert.Equal((WebSocketCloseStatus)4000, await silent.ExpectCloseAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal("ping timeout", silent.CloseText);
            // The claim: gone within the ping timeout + 1 s of the last sign of life.
            await Eventually.Until(() => host.Server.Statistics is { Clients: 0, OpenDialogs: 0, LocalDialogs: 0 }, TimeSpan.FromMilliseconds(1600) - System.Diagnostics.Stopwatch.GetElapsedTime(quiet), "the silent client and its dialog ended within the ping timeout + 1 s");
        }
    }

    [Fact]
    public async Task Reconnect_WithinTheResumeWindow_KeepsTheDialogs_AndWithoutOneEndsThem()
    {
        await using SkinHost host = await SkinHost.StartAsync(SkinHost.DefaultOptions with { ResumeWindow = TimeSpan.FromSeconds(30) });
        (RawClient first, int dialog, JsonElement welcome) = await RawClient.OpenAsync(host, "counter", "counter");
        string resume = welcome.GetProperty("resume").GetString()!;
        await first.SendAsync($$"""{"t":"event","d":{{dialog}},"kind":"click","key":"add"}""");
        await first.ExpectAsync("patch");
        first.Abort();
        await Eventually.Until(() => host.Server.Statistics.Connections == 0, TimeSpan.FromSeconds(5), "the aborted socket is gone");
        Assert.Equal(1, host.Server.Statistics.Clients);
        Assert.Equal(1, host.Server.Statistics.LocalDialogs);

        await using RawClient second = await RawClient.ConnectAsync(host, "counter", resume: resume);
        JsonElement again = await second.ExpectAsync("welcome");
        Assert.True(again.GetProperty("resumed").GetBoolean());
        Assert.Equal(dialog, (await second.ExpectAsync("opened")).GetProperty("d").GetInt32());
        JsonElement render = await second.ExpectAsync("patch");
        Assert.Contains("\"text\":\"1\"", render.GetRawText(), StringComparison.Ordinal); // the dialog kept its state
        await AssertClickWorks(second, dialog, "2");
        Assert.Equal(1, host.Server.Statistics.Clients);

        // A resume token is good once: a second use starts a fresh client.
        await using RawClient third = await RawClient.ConnectAsync(host, "counter", resume: resume);
        Assert.False((await third.ExpectAsync("welcome")).GetProperty("resumed").GetBoolean());
    }

    private static async Task AssertClickWorks(RawClient client, int dialog, string expectedCount)
    {
        await client.SendAsync($$"""{"t":"event","d":{{dialog}},"kind":"click","key":"add"}""");
        JsonElement patch = await client.ExpectAsync("patch");
        Assert.Equal(dialog, patch.GetProperty("d").GetInt32());
        JsonElement op = patch.GetProperty("ops")[0];
        Assert.Equal("set", op.GetProperty("op").GetString());
        Assert.Equal(expectedCount, op.GetProperty("text").GetString());
    }
}
