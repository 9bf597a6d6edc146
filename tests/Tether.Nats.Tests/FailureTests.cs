using System.Diagnostics;
using NATS.Client.Core;
using Tether.Nats.Internal;

namespace Tether.Nats.Tests;

[Collection(Exclusive.Name)]
public sealed class FailureTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    public sealed record Hello : IRequest<string>;

    public sealed record MakeCounter : IRequest<Address>;

    /// <summary>An instance made by a factory: answers with its owner's address.</summary>
    public sealed class Counter : Target, ITarget<Counter>
    {
        public static void Wire(Channels<Counter> channels)
            => channels.Request<Hello, string>(static (self, _, ctx) => $"owned by {ctx.Owner}");
    }

    /// <summary>Creates a counter through the factory service (wherever it runs) and keeps it.</summary>
    public sealed class Owner : Target, ITarget<Owner>
    {
        public static void Wire(Channels<Owner> channels)
            => channels.RequestAsync<MakeCounter, Address>(static async (self, _, ctx) => await ctx.Create("counter"));
    }

    public sealed record MakeStuck : IRequest<Address>;

    /// <summary>Creates an instance through the "stuck" factory, whose creation never finishes while the gate is shut.</summary>
    public sealed class StuckOwner : Target, ITarget<StuckOwner>
    {
        public static void Wire(Channels<StuckOwner> channels)
            => channels.RequestAsync<MakeStuck, Address>(static async (self, _, ctx) => await ctx.Create("stuck", timeout: TimeSpan.FromSeconds(60)));
    }

    /// <summary>Hands the reply token of a <see cref="Delegate"/> to a target on another node, in a message.</summary>
    public sealed class TokenPasser : Target, ITarget<TokenPasser>
    {
        public static void Wire(Channels<TokenPasser> channels)
            => channels.Deferred<Delegate, string>(static (_, m, token, ctx) => ctx.Send(m.To, new Forward(token, m.Text)));
    }

    /// <summary>Keeps every token it is handed and never answers.</summary>
    public sealed class TokenKeeper(TaskCompletionSource kept) : Target, ITarget<TokenKeeper>
    {
        private readonly List<ReplyToken<string>> _tokens = [];

        public static void Wire(Channels<TokenKeeper> channels) => channels.On<Forward>(static (self, m, _) =>
        {
            self._tokens.Add(m.Token);
            self.Kept();
        });

        private void Kept() => kept.TrySetResult();
    }

    /// <summary>Passes every reply token it is handed on to the next target (typically on another node).</summary>
    public sealed class TokenRelay(Address next) : Target, ITarget<TokenRelay>
    {
        private Address Next { get; } = next;

        public static void Wire(Channels<TokenRelay> channels) => channels.On<Forward>(static (self, m, ctx) => ctx.Send(self.Next, m));
    }

    private static Task Until(Func<Task<bool>> condition, string phase) => Eventually.Until(condition, phase, s_wait);

    private static async Task<bool> IsGone(Node from, Address target)
    {
        try
        {
            await from.Request(target, new Hello(), TimeSpan.FromSeconds(5)); // a hang guard for one probe: a live target answers at once
            return false;
        }
        catch (TetherException ex) when (ex.Code is ErrorCodes.NoSuchTarget or ErrorCodes.TargetEnded)
        {
            return true;
        }
    }

    [Fact]
    public async Task OwnerNodeLoss_EndsInstancesItOwnedOnOtherNodes()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, BrokerProxy aProxy) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        (Node c, _) = await cluster.AddNodeAsync("gamma");
        b.RegisterFactory("counter", _ => new Counter());
        await cluster.MeshedAsync();
        Address owner = a.Spawn(() => new Owner());
        Address counter = await a.Request(owner, new MakeCounter()).AsTask().WaitAsync(s_wait);
        Assert.Equal(2, b.Statistics.Targets);

        long crashed = Stopwatch.GetTimestamp();
        await aProxy.VanishAsync();
        await Until(() => Task.FromResult(b.Statistics.Targets == 1), "beta to end the instance owned by the lost node");
        // Claim (README, failure detection): FailureTimeout 2 s + one HeartbeatInterval 0.5 s; + 1 s for a loaded machine.
        Assert.True(Stopwatch.GetElapsedTime(crashed) < TimeSpan.FromSeconds(3.5), "no tethered instance outlives its owner's node by more than the detection time");
        Assert.True(await IsGone(c, counter));
    }

    [Fact]
    public async Task RemoteCreate_TakerNodeLostWhileCreating_FailsNodeUnreachableWithinDetectionTimeNotAtTheDeadline()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, BrokerProxy aProxy) = await cluster.AddNodeAsync("alpha");
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta");
        using var gate = new ManualResetEventSlim();
        var creating = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        b.RegisterFactory("stuck", _ =>
        {
            creating.TrySetResult();
            gate.Wait(TimeSpan.FromSeconds(30)); // a creation that hangs: the creator must not wait for its 60 s deadline
            return new Counter();
        });
        await cluster.MeshedAsync();

        try
        {
            // A create goes through the factory's queue group: the creator learns which node took it only from its Accepted frame.
            Task<Address> create = a.Request(a.Spawn(() => new StuckOwner()), new MakeStuck(), TimeSpan.FromSeconds(60)).AsTask();
            await creating.Task.WaitAsync(s_wait);
            await Until(() => Task.FromResult(aProxy.PendingDestinations().Contains("node beta")), "alpha to learn that beta took the create");

            long lost = Stopwatch.GetTimestamp();
            await bProxy.VanishAsync();
            TetherException error = await Assert.ThrowsAsync<TetherException>(() => create.WaitAsync(s_wait));

            Assert.Equal(ErrorCodes.NodeUnreachable, error.Code);
            // Claim (README, failure detection): FailureTimeout 2 s + one HeartbeatInterval 0.5 s; + 1 s for a loaded machine.
            Assert.True(Stopwatch.GetElapsedTime(lost) < TimeSpan.FromSeconds(3.5), $"the create ended {Stopwatch.GetElapsedTime(lost).TotalSeconds:0.00} s after beta vanished; detection is 2 s plus one heartbeat");
        }
        finally
        {
            gate.Set();
        }
    }

    [Fact]
    public async Task ForwardedReplyToken_NodeHoldingItLost_RequesterFailsNodeUnreachableWithinDetectionTime()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node c, BrokerProxy cProxy) = await cluster.AddNodeAsync("gamma");
        var kept = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address keeper = new("gamma", c.Spawn(() => new TokenKeeper(kept)).Id);
        await cluster.MeshedAsync();

        // alpha's own request; the target that took it hands the obligation to answer to gamma, which then vanishes.
        Task<string> request = a.Request(a.Spawn(() => new TokenPasser()), new Delegate(keeper, "q"), TimeSpan.FromSeconds(60)).AsTask();
        await kept.Task.WaitAsync(s_wait);

        long lost = Stopwatch.GetTimestamp();
        await cProxy.VanishAsync();
        TetherException error = await Assert.ThrowsAsync<TetherException>(() => request.WaitAsync(s_wait));

        Assert.Equal(ErrorCodes.NodeUnreachable, error.Code);
        // Claim (README, failure detection): FailureTimeout 2 s + one HeartbeatInterval 0.5 s; + 1 s for a loaded machine.
        Assert.True(Stopwatch.GetElapsedTime(lost) < TimeSpan.FromSeconds(3.5), $"the request ended {Stopwatch.GetElapsedTime(lost).TotalSeconds:0.00} s after gamma vanished");
    }

    [Fact]
    public async Task RelayedReplyToken_ThirdNodeHoldingItLost_RequesterFailsNodeUnreachableWithinDetectionTime()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        (Node c, BrokerProxy cProxy) = await cluster.AddNodeAsync("gamma");
        var kept = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address passer = new("beta", b.Spawn(() => new TokenPasser()).Id);
        Address keeper = new("gamma", c.Spawn(() => new TokenKeeper(kept)).Id);
        await cluster.MeshedAsync();

        // alpha -> beta, which passes the obligation to answer on to gamma; gamma then vanishes while beta stays.
        Task<string> request = a.Request(passer, new Delegate(keeper, "q"), TimeSpan.FromSeconds(60)).AsTask();
        await kept.Task.WaitAsync(s_wait);

        long lost = Stopwatch.GetTimestamp();
        await cProxy.VanishAsync();
        TetherException error = await Assert.ThrowsAsync<TetherException>(() => request.WaitAsync(s_wait));

        Assert.Equal(ErrorCodes.NodeUnreachable, error.Code);
        Assert.Contains("gamma", error.Message, StringComparison.Ordinal);
        // Claim (README, failure detection): FailureTimeout 2 s + one HeartbeatInterval 0.5 s; + 1 s for a loaded machine.
        Assert.True(Stopwatch.GetElapsedTime(lost) < TimeSpan.FromSeconds(3.5), $"the request ended {Stopwatch.GetElapsedTime(lost).TotalSeconds:0.00} s after gamma vanished");
    }

    [Fact]
    public async Task ReplyTokenRelayedOverThreeHops_LastHolderLost_RequesterFailsNamingItWithinDetectionTime()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        (Node c, _) = await cluster.AddNodeAsync("gamma");
        (Node d, BrokerProxy dProxy) = await cluster.AddNodeAsync("delta");
        var kept = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address keeper = new("delta", d.Spawn(() => new TokenKeeper(kept)).Id);
        Address relay = new("gamma", c.Spawn(() => new TokenRelay(keeper)).Id);
        Address passer = new("beta", b.Spawn(() => new TokenPasser()).Id);
        await cluster.MeshedAsync();

        // alpha -> beta -> gamma -> delta: beta and gamma each tell alpha where the token went; the notices may cross.
        Task<string> request = a.Request(passer, new Delegate(relay, "q"), TimeSpan.FromSeconds(60)).AsTask();
        await kept.Task.WaitAsync(s_wait);

        long lost = Stopwatch.GetTimestamp();
        await dProxy.VanishAsync();
        TetherException error = await Assert.ThrowsAsync<TetherException>(() => request.WaitAsync(s_wait));

        Assert.Equal(ErrorCodes.NodeUnreachable, error.Code);
        Assert.Contains("delta", error.Message, StringComparison.Ordinal);
        // Claim (README, failure detection): FailureTimeout 2 s + one HeartbeatInterval 0.5 s; + 1 s for a loaded machine.
        Assert.True(Stopwatch.GetElapsedTime(lost) < TimeSpan.FromSeconds(3.5), $"the request ended {Stopwatch.GetElapsedTime(lost).TotalSeconds:0.00} s after delta vanished");
    }

    [Fact]
    public async Task AcceptedNotices_ArrivingOutOfOrder_TheNodeOfTheHighestHopIsWatched()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, BrokerProxy aProxy) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        await cluster.AddNodeAsync("gamma");
        (_, BrokerProxy dProxy) = await cluster.AddNodeAsync("delta");
        Address never = new("beta", b.Spawn(() => new Echo()).Id);
        await cluster.MeshedAsync();

        // Two requests that beta never answers; each is watched on beta (hop 1).
        Task<string> first = a.Request(never, new Never(), TimeSpan.FromSeconds(60)).AsTask();
        Task<string> marker = a.Request(never, new Never(), TimeSpan.FromSeconds(60)).AsTask();
        await Until(() => Task.FromResult(aProxy.PendingRequests().Count == 2), "both requests to be pending");
        long[] correlations = [.. aProxy.PendingRequests().Keys.Order()];

        // The token of the first went on to gamma (hop 2), then to delta (hop 3), but the notices arrive the other way
        // round. A notice for the second request, sent last on the same connection, shows when both were handled.
        await using var raw = new NatsConnection(NatsOpts.Default with { Url = cluster.Server.Url });
        await raw.ConnectAsync();
        await raw.PublishAsync(aProxy.ReplyPrefix + correlations[0], Notice("delta", 3));
        await raw.PublishAsync(aProxy.ReplyPrefix + correlations[0], Notice("gamma", 2));
        await raw.PublishAsync(aProxy.ReplyPrefix + correlations[1], Notice("gamma", 2));
        await Until(() => Task.FromResult(aProxy.PendingRequests()[correlations[1]] == "node gamma"), "the last notice to be handled");
        Assert.Equal("node delta", aProxy.PendingRequests()[correlations[0]]);

        await dProxy.VanishAsync();
        TetherException error = await Assert.ThrowsAsync<TetherException>(() => first.WaitAsync(s_wait));
        Assert.Equal(ErrorCodes.NodeUnreachable, error.Code);
        Assert.Contains("delta", error.Message, StringComparison.Ordinal);
        Assert.False(marker.IsCompleted, "the request watched on gamma ended although gamma is alive");

        static byte[] Notice(string holder, int hop) => new Frame { Kind = FrameKind.Accepted, SenderNode = holder, RecipientId = hop }.Encode(null, null);
    }

    [Fact]
    public async Task BrokerRestart_NodesReconnectAndTrafficResumes()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, BrokerProxy aProxy) = await cluster.AddNodeAsync("alpha");
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta");
        Address echo = new("beta", b.Spawn(() => new Echo()).Id);
        Assert.Equal("echo before from beta", await a.Request(echo, new Ask("before")).AsTask().WaitAsync(s_wait));
        long received = bProxy.Statistics.FramesReceived;

        // Requests pending across the outage: some held by beta before the server goes (never answered), some sent while
        // it is gone. Every one must end (an answer or an error, any code), none hang. Claim (README: every request ends by
        // its deadline): within its own 6 s deadline, + 2 s for the 20 ms deadline sweep and a loaded machine that is
        // also restarting a server and reconnecting two nodes; s_wait only bounds a hang.
        TimeSpan deadline = TimeSpan.FromSeconds(6);
        List<Task<string>> pending = [.. Enumerable.Range(0, 20).Select(_ => a.Request(echo, new Never(), deadline).AsTask())];
        await Eventually.Until(() => aProxy.Statistics.PendingRemoteRequests == 20 && bProxy.Statistics.FramesReceived >= received + 20, "beta to hold the requests that never get an answer", s_wait);
        cluster.Server.Kill();
        pending.AddRange(Enumerable.Range(0, 20).Select(i => a.Request(echo, new Ask($"during {i}"), deadline).AsTask()));
        long outage = System.Diagnostics.Stopwatch.GetTimestamp();
        await cluster.Server.RestartAsync();

        await Task.WhenAll(pending.Select(r => r.ContinueWith(static _ => { }, TaskScheduler.Default))).WaitAsync(s_wait);
        TimeSpan ended = System.Diagnostics.Stopwatch.GetElapsedTime(outage);
        Assert.All(pending, r => Assert.True(r.IsCompletedSuccessfully || r.Exception?.InnerException is TetherException, $"a request ended with {r.Exception?.InnerException?.GetType().Name}"));
        Assert.True(ended < deadline + TimeSpan.FromSeconds(2), $"the last request pending across the outage ended {ended.TotalSeconds:0.0} s after it began; their deadline was {deadline.TotalSeconds} s");

        await Until(async () =>
        {
            try
            {
                return await a.Request(echo, new Ask("after"), TimeSpan.FromSeconds(2)) == "echo after from beta";
            }
            catch (TetherException)
            {
                return false;
            }
        }, "traffic to resume after the broker restarted");

        // Flow control came through the outage: the frames lost with it left no credit missing (each node started new
        // counts when it reconnected, and told its senders to), and beta is still flow-controlled (a hello lost while beta
        // was away did not make alpha take it for a node without flow control).
        Tether.Nats.Internal.Outbox outbox = aProxy.Outboxes.FindNodeOutbox("beta")!;
        await Eventually.Until(() => outbox.Unconfirmed == 0, $"beta to report every frame of alpha's count taken ({outbox.DescribeFlow()})", s_wait);
        Assert.Contains("unlimited False", outbox.DescribeFlow(), StringComparison.Ordinal);
    }
}
