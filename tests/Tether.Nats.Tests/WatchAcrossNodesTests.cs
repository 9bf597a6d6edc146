using System.Collections.Concurrent;
using System.Diagnostics;
using NATS.Client.Core;
using Tether.Nats.Internal;
using Tether.Testing;
using static Tether.Testing.MultiNodeContractTests;

namespace Tether.Nats.Tests;

/// <summary>
/// Watching a target on another node when that node goes away, over a real nats-server: killed (a separate `tether node`
/// process, kill -9) the watch fires as unreachable once the loss is detected; stopped cleanly it fires as stopped. The
/// watch itself (end, failure, tether, unwatch, gone address) is in the shared suite, <see cref="NatsContractTests"/>.
/// </summary>
[Collection(Exclusive.Name)]
public sealed class WatchAcrossNodesTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Watch_TheWatchedNodeProcessIsKilled_FiresAsUnreachable_WithinDetectionTime()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        using NodeProcess victim = await NodeProcess.StartAsync("victim-w", cluster.Server.Url);
        (Node beta, BrokerProxy betaProxy) = await cluster.AddNodeAsync("beta", contracts: OwnerProcessLossTests.Register(Cluster.Contracts()));
        await Eventually.Until(() => betaProxy.Peers.Contains("victim-w"), "beta to hear the node process", s_wait);
        Address tally = await beta.Request("owner-victim-w", new OwnerProcessLossTests.MakeTally("counter-victim-w")).AsTask().WaitAsync(s_wait);
        Assert.Equal("victim-w", tally.Node);
        var seen = new ConcurrentQueue<TargetEnded>();
        Address watcher = beta.Spawn(() => new Watcher(seen));
        Assert.True(await beta.Request(watcher, new WatchIt(tally)).AsTask().WaitAsync(s_wait));

        long killed = Stopwatch.GetTimestamp();
        victim.Kill();

        await Eventually.Until(() => !seen.IsEmpty, "the watcher to learn that the killed process's target is gone", s_wait);
        TimeSpan took = Stopwatch.GetElapsedTime(killed);
        Assert.Equal(new TargetEnded(tally, "node victim-w is unreachable"), Assert.Single(seen));
        // Claim (README, failure detection): FailureTimeout 2 s + one HeartbeatInterval 0.5 s; + 1 s for a loaded machine
        // (the watch fires on this process, as the requests in ProcessTests end: the same bound).
        Assert.True(took < TimeSpan.FromSeconds(3.5), $"the watch fired {took.TotalSeconds:0.00} s after kill -9; the bound is detection (2 s) + one heartbeat (0.5 s) + 1 s for a loaded machine");
        Assert.Equal(0, beta.RemoteWatchCount);
    }

    /// <summary>
    /// Two nodes, alpha and beta, an echo target on beta, and a plain NATS connection that publishes hand-made frames to
    /// beta: the setup of the tests that send beta damaged control frames. Disposing it closes the connection, then the cluster.
    /// </summary>
    private sealed record RawFrames(Cluster Cluster, Node A, Node B, BrokerProxy BProxy, Address Echo, NatsConnection Raw) : IAsyncDisposable
    {
        public static async Task<RawFrames> StartAsync()
        {
            Cluster cluster = await Cluster.StartAsync();
            try
            {
                (Node a, _) = await cluster.AddNodeAsync("alpha");
                (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta");
                Address echo = b.Spawn(() => new Echo());
                var raw = new NatsConnection(NatsOpts.Default with { Url = cluster.Server.Url });
                try
                {
                    await raw.ConnectAsync();
                }
                catch
                {
                    await raw.DisposeAsync();
                    throw;
                }

                return new RawFrames(cluster, a, b, bProxy, echo, raw);
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Raw.DisposeAsync();
            await Cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task WatchFrames_Malformed_AreCountedAsBadFrames_AndTheNodeKeepsWatching()
    {
        await using RawFrames setup = await RawFrames.StartAsync();
        (_, Node a, Node b, BrokerProxy bProxy, Address echo, NatsConnection raw) = setup;
        byte[][] bad =
        [
            new Frame { Kind = FrameKind.Watch, RecipientId = echo.Id }.Encode(null, null), // no watching node
            new Frame { Kind = FrameKind.Unwatch, SenderNode = "alpha" }.Encode(null, null), // no target
            new Frame { Kind = FrameKind.Ended, ErrorText = "forged" }.Encode(null, null), // no ended target
        ];
        foreach (byte[] bytes in bad)
        {
            await raw.PublishAsync("tether.default.node.beta", bytes);
        }

        await Eventually.Until(() => bProxy.Statistics.BadFrames >= 3, "beta to count the three malformed watch frames", s_wait);
        Assert.Equal(3, bProxy.Statistics.BadFrames);
        var seen = new ConcurrentQueue<TargetEnded>();
        Address watcher = a.Spawn(() => new Watcher(seen));
        Assert.True(await a.Request(watcher, new WatchIt(echo)).AsTask().WaitAsync(s_wait));
        a.End(echo);
        await Eventually.Until(() => !seen.IsEmpty, "a watch made afterwards to still work", s_wait);
        Assert.Equal(new TargetEnded(echo, "ended by the node"), Assert.Single(seen));
    }

    /// <summary>
    /// An End from outside any target, a Watch, an Unwatch and an Ended frame name no owner the node could check, so each
    /// carries a check value (README, wire format): one without it, or with the value meant for another node, is counted
    /// as a bad frame and acts on nothing. This is what a fuzzed request whose kind byte and sender id flipped looks like.
    /// </summary>
    [Fact]
    public async Task ControlFrames_WithoutTheirCheckValue_AreCountedAsBad_AndEndOrWatchNothing()
    {
        await using RawFrames setup = await RawFrames.StartAsync();
        (_, Node a, Node b, BrokerProxy bProxy, Address echo, NatsConnection raw) = setup;
        long forGamma = ControlCheck.Of(FrameKind.End, "alpha", 0, "gamma", echo.Id);
        byte[][] damaged =
        [
            new Frame { Kind = FrameKind.End, SenderNode = "alpha", RecipientId = echo.Id }.Encode(null, null), // flag 0
            new Frame { Kind = FrameKind.End, SenderNode = "alpha", RecipientId = echo.Id, Flag = forGamma }.Encode(null, null), // another node's value
            new Frame { Kind = FrameKind.End, SenderNode = "alpha", RecipientId = echo.Id, Flag = ControlCheck.Of(FrameKind.End, "alpha", 0, "beta", echo.Id) ^ 1 }.Encode(null, null),
            new Frame { Kind = FrameKind.Watch, SenderNode = "alpha", RecipientId = echo.Id }.Encode(null, null),
            new Frame { Kind = FrameKind.Unwatch, SenderNode = "alpha", RecipientId = echo.Id, Flag = 1 }.Encode(null, null),
            new Frame { Kind = FrameKind.Ended, SenderNode = "alpha", SenderId = 7, ErrorText = "forged" }.Encode(null, null),
        ];
        foreach (byte[] bytes in damaged)
        {
            await raw.PublishAsync("tether.default.node.beta", bytes);
        }

        await Eventually.Until(() => bProxy.Statistics.BadFrames >= damaged.Length, $"beta to count the {damaged.Length} control frames without their check value", s_wait);
        Assert.Equal(damaged.Length, bProxy.Statistics.BadFrames);
        Assert.Equal(0, b.RemoteWatchCount + a.RemoteWatchCount);
        Assert.Equal("echo still from beta", await a.Request(echo, new Ask("still")).AsTask().WaitAsync(s_wait));

        // The node's own End, with its value, is honoured (and so is a watch).
        var seen = new ConcurrentQueue<TargetEnded>();
        Address watcher = a.Spawn(() => new Watcher(seen));
        Assert.True(await a.Request(watcher, new WatchIt(echo)).AsTask().WaitAsync(s_wait));
        await a.EndAsync(echo).WaitAsync(s_wait);
        await Eventually.Until(() => !seen.IsEmpty, "the watch to report the checked End", s_wait);
        Assert.Equal(new TargetEnded(echo, "ended by the node"), Assert.Single(seen));
        Assert.Equal(damaged.Length, bProxy.Statistics.BadFrames);
    }

    /// <summary>
    /// No frame one or two bit flips away from a valid request, send or response reads as a control frame the node would
    /// honour (every pair of bits is flipped, then the frame decoded and checked as the node checks it): the 1,000,000-frame
    /// fuzz found a request that read as an End from outside after two flips, before control frames carried a check value.
    /// </summary>
    [Fact]
    public void ControlCheck_NoOneOrTwoBitFlipOfAnotherFrame_PassesIt()
    {
        var wire = MessagePack.MessagePackSerializerOptions.Standard;
        byte[][] frames =
        [
            new Frame { Kind = FrameKind.Request, SenderNode = "fuzzer", SenderId = 1, RecipientId = 3973634611871745, Contract = "test.ask" }.Encode(typeof(string), "f", wire),
            new Frame { Kind = FrameKind.Send, SenderNode = "fuzzer", SenderId = 1, RecipientId = 3973634611871745, Contract = "test.ask" }.Encode(typeof(string), "f", wire),
            new Frame { Kind = FrameKind.Response, SenderNode = "fuzzer", Contract = "test.ask" }.Encode(typeof(string), "r", wire),
            new Frame { Kind = FrameKind.End, SenderNode = "fuzzer", SenderId = 1, RecipientId = 3973634611871745, Flag = 1 }.Encode(null, null),
        ];
        long decoded = 0;
        foreach (byte[] frame in frames)
        {
            int bits = frame.Length * 8;
            for (int i = 0; i < bits; i++)
            {
                for (int j = i; j < bits; j++)
                {
                    byte[] flipped = (byte[])frame.Clone();
                    flipped[i / 8] ^= (byte)(1 << (i % 8));
                    if (j != i)
                    {
                        flipped[j / 8] ^= (byte)(1 << (j % 8));
                    }

                    Frame header;
                    try
                    {
                        Frame.DecodeHeader(flipped, out header);
                    }
                    catch (WireException)
                    {
                        continue;
                    }

                    decoded++;
                    bool control = header.Kind is FrameKind.Watch or FrameKind.Unwatch or FrameKind.Ended || (header.Kind == FrameKind.End && header.SenderId == 0);
                    Assert.False(control && ControlCheck.Holds(header, "beta"), $"flipping bits {i} and {j} made a {header.Kind} frame the node would honour");
                }
            }
        }

        Assert.True(decoded > 1_000, $"only {decoded} flipped frames decoded: the test checks too little");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Watch_TheWatchedNodeStopsCleanly_FiresAsStopped(bool nodeFirst)
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node beta, _) = await cluster.AddNodeAsync("beta");
        (Node gamma, BrokerProxy gammaProxy) = await cluster.AddNodeAsync("gamma");
        await cluster.MeshedAsync();
        Address echo = gamma.Spawn(() => new Echo());
        Assert.Equal("echo x from gamma", await beta.Request(echo, new Ask("x")).AsTask().WaitAsync(s_wait));
        var seen = new ConcurrentQueue<TargetEnded>();
        Address watcher = beta.Spawn(() => new Watcher(seen));
        Assert.True(await beta.Request(watcher, new WatchIt(echo)).AsTask().WaitAsync(s_wait));

        // The watch frame is on its way to gamma when WatchIt answers. A request to the echo travels behind it in beta's
        // outbox for gamma, so its answer means gamma holds the watch; without it, a stop that overtakes the watch frame
        // answers "no such target" (rightly: the target is gone), which is not what this test checks.
        Assert.Equal("echo y from gamma", await beta.Request(echo, new Ask("y")).AsTask().WaitAsync(s_wait));

        if (nodeFirst)
        {
            await gamma.StopAsync(); // its targets end and report it, then its proxy says goodbye
            await gammaProxy.DisposeAsync();
        }
        else
        {
            await gammaProxy.DisposeAsync(); // a goodbye with the targets still running
        }

        await Eventually.Until(() => !seen.IsEmpty, "the watcher to learn that the stopped node's target is gone", s_wait);
        TargetEnded ended = Assert.Single(seen);
        Assert.Equal(echo, ended.Instance);
        if (nodeFirst)
        {
            // The targets' own reports, or the goodbye if it overtakes them (the proxy does not drain its outboxes first).
            Assert.Contains(ended.Reason, new[] { "node stopping", "node gamma stopped" });
        }
        else
        {
            Assert.Equal("node gamma stopped", ended.Reason);
        }

        Assert.Equal(0, beta.RemoteWatchCount);
    }
}
