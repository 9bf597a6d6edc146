using System.Diagnostics;
using Tether.Hosting;

namespace Tether.Nats.Tests;

/// <summary>
/// Out-of-process nodes (`tether node`) also host this module: an owner service and a counter factory, both named
/// after the node ("owner-NODE", "counter-NODE"), so a test can reach a particular process.
/// </summary>
public sealed class OwnerModule : ITetherModule
{
    public void RegisterContracts(ContractRegistry contracts) => OwnerProcessLossTests.Register(contracts);

    public void Start(Node node)
    {
        node.RegisterService($"owner-{node.Name}", node.Spawn(() => new OwnerProcessLossTests.Holder()));
        node.RegisterFactory($"counter-{node.Name}", _ => new OwnerProcessLossTests.Tally());
    }
}

/// <summary>
/// The loss of an owner's node, tested with a real crash: the owner lives in a separate `tether node` process that gets
/// kill -9 (three processes in all: this test host and two node processes).
/// </summary>
[Collection(Exclusive.Name)]
public sealed class OwnerProcessLossTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    public sealed record MakeTally(string Factory) : IRequest<Address>;

    public sealed record Hang : IRequest<string>;

    public sealed record Read : IRequest<string>;

    /// <summary>Creates instances through a factory (wherever it runs) and owns them; never answers <see cref="Hang"/>.</summary>
    public sealed class Holder : Target, ITarget<Holder>
    {
        public static void Wire(Channels<Holder> channels) => channels
            .RequestAsync<MakeTally, Address>(static async (_, m, ctx) => await ctx.Create(m.Factory, timeout: s_wait))
            .Deferred<Hang, string>(static (_, _, _, _) => { });
    }

    /// <summary>An instance: answers with its owner.</summary>
    public sealed class Tally : Target, ITarget<Tally>
    {
        public static void Wire(Channels<Tally> channels) => channels.Request<Read, string>(static (_, _, ctx) => $"owned by {ctx.Owner}");
    }

    internal static ContractRegistry Register(ContractRegistry contracts) => contracts
        .Register<MakeTally>("owner-loss.make")
        .Register<Hang>("owner-loss.hang")
        .Register<Read>("owner-loss.read");

    private static async Task<bool> IsGone(Node from, Address target)
    {
        try
        {
            await from.Request(target, new Read(), TimeSpan.FromSeconds(5)); // a hang guard for one probe: a live target answers at once
            return false;
        }
        catch (TetherException ex) when (ex.Code is ErrorCodes.NoSuchTarget or ErrorCodes.TargetEnded)
        {
            return true;
        }
    }

    [Fact]
    public async Task OwnerProcessKilled_InstancesItOwnedOnOtherNodesEnd_AndRequestsToItFail_WithinDetectionTime()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        using NodeProcess owner = await NodeProcess.StartAsync("owner-a", cluster.Server.Url);
        using NodeProcess gamma = await NodeProcess.StartAsync("gamma-c", cluster.Server.Url);
        (Node beta, BrokerProxy betaProxy) = await cluster.AddNodeAsync("beta", contracts: Register(Cluster.Contracts()));
        beta.RegisterFactory("counter-beta", _ => new Tally());
        await Eventually.Until(() => betaProxy.Peers.Contains("owner-a") && betaProxy.Peers.Contains("gamma-c"), "beta to hear both node processes", s_wait);

        // The process owner-a creates one instance here (beta) and one on the other process (gamma-c).
        Address onBeta = await beta.Request("owner-owner-a", new MakeTally("counter-beta")).AsTask().WaitAsync(s_wait);
        Address onGamma = await beta.Request("owner-owner-a", new MakeTally("counter-gamma-c")).AsTask().WaitAsync(s_wait);
        Assert.Equal(("beta", "gamma-c"), (onBeta.Node, onGamma.Node));
        Assert.StartsWith("owned by owner-a/", await beta.Request(onGamma, new Read()).AsTask().WaitAsync(s_wait), StringComparison.Ordinal);
        int betaTargets = beta.Statistics.Targets;
        Task<string>[] pending = Enumerable.Range(0, 100).Select(_ => beta.Request("owner-owner-a", new Hang(), TimeSpan.FromSeconds(60)).AsTask()).ToArray();

        long killed = Stopwatch.GetTimestamp();
        owner.Kill();

        await Task.WhenAll(pending.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(s_wait);
        Assert.All(pending, r => Assert.Equal(ErrorCodes.NodeUnreachable, Assert.IsType<TetherException>(r.Exception!.InnerException).Code));
        await Eventually.Until(() => beta.Statistics.Targets == betaTargets - 1, "beta to end the instance the killed process owned", s_wait);
        // Claim (README, failure detection): FailureTimeout 2 s + one HeartbeatInterval 0.5 s; + 1 s for a loaded machine.
        TimeSpan here = Stopwatch.GetElapsedTime(killed);
        Assert.True(here < TimeSpan.FromSeconds(3.5), $"the pending requests and beta's instance of the owner ended {here.TotalSeconds:0.00} s after kill -9; the bound is detection (2 s) + one heartbeat (0.5 s) + 1 s for a loaded machine");
        await Eventually.Until(() => IsGone(beta, onGamma), "gamma-c (another process) to end the instance the killed process owned", s_wait);
        // The same claim, judged by another process (gamma-c, whose heartbeat thread competes with two more processes for
        // the loaded machine's cores) and seen from here through a polled request across NATS: 1 s more margin.
        TimeSpan took = Stopwatch.GetElapsedTime(killed);
        Assert.True(took < TimeSpan.FromSeconds(4.5), $"gamma-c's instance of the owner ended {took.TotalSeconds:0.00} s after kill -9; the bound is detection (2 s) + one heartbeat (0.5 s) + 2 s for another loaded process and a polled round trip");
    }
}
