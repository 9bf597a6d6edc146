using System.Diagnostics;
using Tether.Hosting;

namespace Tether.Nats.Tests;

/// <summary>Out-of-process nodes also host this: service "burn-NODE" keeps every core busy in handlers when asked.</summary>
public sealed class BurnModule : ITetherModule
{
    public void RegisterContracts(ContractRegistry contracts) => SaturationTests.Register(contracts);

    public void Start(Node node) => node.RegisterService($"burn-{node.Name}", node.Spawn(() => new SaturationTests.Burner()));
}

/// <summary>
/// No false alarms: a node whose handlers keep every thread-pool thread busy is still alive, and its peers must not
/// declare it lost (heartbeats must not wait behind user code).
/// </summary>
[Collection(Exclusive.Name)]
public sealed class SaturationTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    public sealed record Burn(int Targets, int Millis) : IRequest<int>;

    public sealed record Spin(int Millis);

    public sealed record Alive : IRequest<string>;

    /// <summary>Starts <see cref="Burn.Targets"/> working targets that each spin a core for the given time, then end.</summary>
    public sealed class Burner : Target, ITarget<Burner>
    {
        public static void Wire(Channels<Burner> channels) => channels
            .Request<Burn, int>(static (_, m, ctx) =>
            {
                for (int i = 0; i < m.Targets; i++)
                {
                    ctx.Send(ctx.Spawn(() => new Spinner()), new Spin(m.Millis));
                }

                return m.Targets;
            })
            .Request<Alive, string>(static (_, _, ctx) => $"alive {ctx.Self.Node}");
    }

    /// <summary>Spins its thread for a while (CPU-bound user code that never yields), then ends.</summary>
    public sealed class Spinner : Target, ITarget<Spinner>
    {
        public static void Wire(Channels<Spinner> channels) => channels.On<Spin>(static (_, m, ctx) =>
        {
            long until = Stopwatch.GetTimestamp() + (m.Millis * Stopwatch.Frequency / 1000);
            double sink = 0;
            while (Stopwatch.GetTimestamp() < until)
            {
                sink += Math.Sqrt(sink + 1);
            }

            GC.KeepAlive(sink);
            ctx.EndSelf();
        });
    }

    internal static ContractRegistry Register(ContractRegistry contracts) => contracts
        .Register<Burn>("saturation.burn")
        .Register<Alive>("saturation.alive");

    // A known defect, kept visible: heartbeats (the timer that sends them and NATS.Net's writer) run on the thread pool,
    // so CPU-bound handlers on every thread can delay them past FailureTimeout; a clean-clone run on 2026-12-03 saw the
    // busy node declared lost 3.5 s into the saturation (other runs passed). Issue 16 item 4 stays open until heartbeats
    // have a thread of their own; then remove the Skip.
    [Fact(Skip = "known defect (issue 16 item 4): heartbeats still depend on the thread pool that CPU-bound handlers can saturate")]
    public async Task NodeWithEveryThreadBusyForTenSeconds_IsNotDeclaredLost()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        using NodeProcess busy = await NodeProcess.StartAsync("busy", cluster.Server.Url);
        (Node alpha, BrokerProxy alphaProxy) = await cluster.AddNodeAsync("alpha", contracts: Register(Cluster.Contracts()));
        await Eventually.Until(() => alphaProxy.Peers.Contains("busy"), "alpha to hear the busy node", s_wait);
        Assert.Equal("alive busy", await alpha.Request("burn-busy", new Alive()).AsTask().WaitAsync(s_wait));

        // Far more CPU-bound handlers than threads: the thread pool stays saturated for 10 s, also as it adds threads.
        int targets = Environment.ProcessorCount * 32;
        Assert.Equal(targets, await alpha.Request("burn-busy", new Burn(targets, 10_000)).AsTask().WaitAsync(s_wait));
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(12))
        {
            Assert.True(alphaProxy.Peers.Contains("busy"), $"the busy node was declared lost {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s into the saturation (a false alarm)");
            await Task.Delay(100); // sampling a condition that must hold for the whole period
        }

        Assert.Equal(0, alphaProxy.Statistics.PeersLost);
        Assert.Equal("alive busy", await alpha.Request("burn-busy", new Alive()).AsTask().WaitAsync(s_wait));
    }
}
