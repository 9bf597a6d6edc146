using System.Collections.Concurrent;
using System.Diagnostics;
using NATS.Client.Core;

namespace Tether.Nats.Tests;

/// <summary>
/// What only NATS shows about remote messaging (contracts on the wire, no responders, garbage on a subject). The
/// protocol itself (requests, errors, order, reply tokens across nodes) is <see cref="NatsContractTests"/>, the suite
/// the in-memory network runs too.
/// </summary>
public sealed class RemoteMessagingTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Request_UnregisteredContract_FailsAtTheCallerWithTheTypeNamed()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        TetherException error = await Assert.ThrowsAsync<TetherException>(() => a.Request(new Address("beta", 1), new Unregistered(1)).AsTask().WaitAsync(s_wait));
        Assert.Equal(ErrorCodes.BadRequest, error.Code);
        Assert.Contains("Unregistered is not a registered contract", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_ToNodeNobodyHosts_FailsFastWithNodeUnreachable()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        long start = Stopwatch.GetTimestamp();
        TetherException error = await Assert.ThrowsAsync<TetherException>(
            () => a.Request(new Address("ghost", 1), new Ask("anyone?"), TimeSpan.FromSeconds(20)).AsTask().WaitAsync(s_wait));
        Assert.Equal(ErrorCodes.NodeUnreachable, error.Code);
        // Claim (README, failure detection: a request to a node nobody hosts fails at once): well below the request's own
        // 20 s deadline, which is what would end it otherwise; 5 s is margin for a loaded machine.
        Assert.True(Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(5), "no-responders must fail the request long before its 20 s deadline");
    }

    [Fact]
    public async Task Garbage_OnANodeSubject_IsCountedAnsweredAndTheNodeKeepsServing()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta", new BrokerOptions { MaxFrameBytes = 64 * 1024 });
        Address echo = new("beta", b.Spawn(() => new Echo()).Id);

        await using var raw = new NatsConnection(NatsOpts.Default with { Url = cluster.Server.Url });
        await raw.ConnectAsync();
        byte[] valid = new Tether.Nats.Internal.Frame { Kind = Tether.Nats.Internal.FrameKind.Send, SenderNode = "alpha", SenderId = 1, RecipientId = echo.Id, Contract = "test.ask" }
            .Encode(typeof(Ask), new Ask("x"), Tether.Nats.Internal.WireSerializer.For(bProxy));
        byte[][] garbage =
        [
            [0xFF, 0x00, 0x13],
            valid[..(valid.Length / 2)],
            new Tether.Nats.Internal.Frame { Kind = Tether.Nats.Internal.FrameKind.Send, SenderNode = "alpha", RecipientId = echo.Id, Contract = "System.Diagnostics.Process" }.Encode(null, null),
            "not messagepack at all"u8.ToArray(),
            new Tether.Nats.Internal.Frame { Kind = Tether.Nats.Internal.FrameKind.End, RecipientId = echo.Id }.Encode(null, null), // an end from nobody
            new byte[200 * 1024],
        ];
        foreach (byte[] bytes in garbage)
        {
            await raw.PublishAsync("tether.default.node.beta", bytes);
        }

        NatsMsg<byte[]> reply = await raw.RequestAsync<byte[], byte[]>("tether.default.node.beta", [0xC1], replyOpts: new NatsSubOpts { Timeout = s_wait });
        Tether.Nats.Internal.Frame answer = Tether.Nats.Internal.Frame.DecodeHeader(reply.Data);
        Assert.Equal(Tether.Nats.Internal.FrameKind.Error, answer.Kind);
        Assert.Equal(ErrorCodes.BadRequest, answer.ErrorCode);

        long start = Stopwatch.GetTimestamp();
        while (bProxy.Statistics.BadFrames < 6)
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < s_wait, $"only {bProxy.Statistics.BadFrames} bad frames counted");
            await Task.Delay(10); // polling a condition with a deadline
        }

        Assert.Equal("echo still from beta", await a.Request(echo, new Ask("still")).AsTask().WaitAsync(s_wait));
    }
}
