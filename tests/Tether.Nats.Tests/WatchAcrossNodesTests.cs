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

    [Fact]
    public async Task WatchFrames_Malformed_AreCountedAsBadFrames_AndTheNodeKeepsWatching()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta");
        Address echo = b.Spawn(() => new Echo());
        await using var raw = new NatsConnection(NatsOpts.Default with { Url = cluster.Server.Url });
        await raw.ConnectAsync();
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
