using System.Diagnostics;
using Tether.Benchmarks.Frameworks;

namespace Tether.Benchmarks.Harness;

/// <summary>
/// How the cost of a message grows with the number of targets alive: pingpong-1pair's wall time per message in a runtime
/// that also holds 1,000 idle targets, then in a fresh runtime that holds 1,000,000 (100,000 with --quick). The idle
/// targets are spawned from outside before the warm-up and receive nothing. The third figure is each 1,000,000-target
/// iteration divided by the median of the 1,000-target ones (goal: at most 1.2).
/// </summary>
/// <remarks>
/// The two sizes run one after the other, each in a runtime of its own, so the large population's heap does not weigh on
/// the small one's figure. What grows with the population: the heap the collector walks (Settle() runs before each
/// iteration, so mainly the card table and write barriers), the registry, and cache misses.
/// </remarks>
internal sealed class IdlePingPongWorkload : Workload
{
    private const int Small = 1_000;
    private const int Large = 1_000_000;

    public override IReadOnlyList<Scenario> Scenarios => [Scenario.PingPongIdle1K, Scenario.PingPongIdle1M, Scenario.PingPongIdleRatio];

    public override string QuickNote => "pingpong-1pair-idle1m: --quick keeps 100,000 idle targets alive, not 1,000,000 (and the ratio row is against that).";

    protected override Task<Iteration> IterateAsync(IBenchSystem system, object? state, Plan plan, bool warm)
        => throw new NotSupportedException(); // the two sizes run as workloads of their own (Population)

    public override async Task<WorkloadResult> RunAsync(Func<IBenchSystem> create, Plan plan, Action<string> log)
    {
        int large = plan.Quick ? Large / 10 : Large;
        log($"  with {Small:N0} idle targets:");
        WorkloadResult small = await new Population(Small, Scenario.PingPongIdle1K).RunAsync(create, plan, log);
        if (!Measure.WaitForQuietHeap(64_000_000, TimeSpan.FromSeconds(30)))
        {
            log($"  (the heap is still {GC.GetTotalMemory(false) / 1e6:0} MB; going on)");
        }

        log($"  with {large:N0} idle targets:");
        WorkloadResult big = await new Population(large, Scenario.PingPongIdle1M).RunAsync(create, plan, log);
        List<double> smallSamples = small.Samples[Scenario.PingPongIdle1K];
        List<double> bigSamples = big.Samples[Scenario.PingPongIdle1M];
        double reference = Measure.Median(smallSamples);
        List<double> ratios = bigSamples.Select(b => b / reference).ToList();
        log($"  {large:N0} against {Small:N0} idle targets: {Measure.Median(bigSamples):0.0} / {reference:0.0} ns/msg = {Measure.Median(ratios):0.00}x");
        return new WorkloadResult(
            new Dictionary<Scenario, List<double>>
            {
                [Scenario.PingPongIdle1K] = smallSamples,
                [Scenario.PingPongIdle1M] = bigSamples,
                [Scenario.PingPongIdleRatio] = ratios,
            },
            small.Hangs + big.Hangs);
    }

    /// <summary>pingpong-1pair in a runtime that holds <paramref name="idle"/> idle targets, spawned once per runtime.</summary>
    private sealed class Population(int idle, Scenario scenario) : Workload
    {
        private const int InFlight = 100;

        public override IReadOnlyList<Scenario> Scenarios => [scenario];

        protected override async Task<object?> SetupAsync(IBenchSystem system, Plan plan)
        {
            long start = Stopwatch.GetTimestamp();

            // The runtime keeps its targets alive (Tether's node, Proto.Actor's process registry, Akka's /user guardian).
            await system.SpawnIdleAsync(idle, static () => 0).WaitAsync(TimeSpan.FromMinutes(10));
            Console.Error.WriteLine($"  ({idle:N0} idle targets spawned in {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s; heap {GC.GetTotalMemory(false) / 1e6:0} MB)");
            return null;
        }

        protected override async Task<Iteration> IterateAsync(IBenchSystem system, object? state, Plan plan, bool warm)
        {
            int roundTrips = plan.Quick ? 200_000 : 1_000_000;
            Func<Task> go = await system.PreparePingPongAsync(1, roundTrips, InFlight);
            PingPongRun run = await PingPongRun.TimeAsync(go, roundTrips);
            double nsPerMessage = 1e9 / run.Rate;
            return new Iteration([nsPerMessage], $"{nsPerMessage:0.0} ns/msg = {run.Rate / 1e6:0.00} M msg/s ({run.CpuPerMessage:0} ns CPU/msg; {run.Probe})");
        }
    }
}
