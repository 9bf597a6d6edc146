using System.Diagnostics;
using Tether.Benchmarks.Frameworks.Remote;

namespace Tether.Benchmarks.Harness;

/// <summary>A workload on two (or more) nodes of one framework (<c>--remote</c>); each framework gets fresh nodes.</summary>
internal abstract class RemoteWorkload : Workload<IRemoteBench>
{
    protected override TimeSpan DefaultTimeout => TimeSpan.FromSeconds(60);

    /// <summary>How many nodes the workload starts.</summary>
    protected virtual int Nodes => 2;

    /// <summary>At least 5 measured iterations even with --quick (the iterations are short; the medians need them).</summary>
    public override (int Warmup, int Iterations) DefaultCounts(bool quick) => quick ? (1, 5) : (2, 7);

    protected override async Task<object?> SetupAsync(IRemoteBench system, Plan plan)
    {
        await system.StartAsync(Nodes);
        return await PrepareAsync(system, plan);
    }

    protected abstract Task<object?> PrepareAsync(IRemoteBench system, Plan plan);
}

/// <summary>
/// Fire-and-forget 32-byte messages to a remote echo, at most 10,000 unanswered; messages both ways per second, and the CPU
/// per message of this process and of the broker. With three nodes, each node blasts to an echo on the next (a ring of three
/// pairs, all at once), and the rate is per pair.
/// </summary>
internal sealed class RemoteBlastWorkload(int nodes, Scenario rate, Scenario cpu, Scenario broker) : RemoteWorkload
{
    private const int Window = 10_000;

    public override IReadOnlyList<Scenario> Scenarios => [rate, cpu, broker];

    protected override int Nodes => nodes;

    // A ring carries three blasts at once: Akka.Remote took 20 s for a --quick iteration of it under load.
    protected override TimeSpan DefaultTimeout => TimeSpan.FromSeconds(nodes == 2 ? 60 : 180);

    protected override Task<object?> PrepareAsync(IRemoteBench system, Plan plan) => Task.FromResult<object?>(null);

    protected override async Task<Iteration> IterateAsync(IRemoteBench system, object? state, Plan plan, bool warm)
    {
        int messages = plan.Quick ? 200_000 : 500_000;
        int pairs = nodes == 2 ? 1 : nodes; // two nodes: one client and one echo; more: a ring
        var blasts = new Func<Task>[pairs];
        for (int i = 0; i < pairs; i++)
        {
            blasts[i] = await system.PrepareBlastAsync(messages, Window, i, (i + 1) % nodes);
        }

        Measure.Settle();
        GcProbe probe = Probe();
        long start = Stopwatch.GetTimestamp();
        await Task.WhenAll(blasts.Select(static go => go()));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double total = 2.0 * messages * pairs;
        GcSample sample = probe.Stop(); // this process's CPU (all its nodes) and its child processes' (the broker's)
        (double self, double children) = (sample.Cpu.TotalMicroseconds / total, sample.Children.TotalMicroseconds / total);
        double perPair = 2.0 * messages / seconds;
        string pairText = pairs > 1 ? $" per pair, {total / seconds / 1e6:0.000} M msg/s in all" : string.Empty;
        return new Iteration(
            [perPair, self, children],
            $"{perPair / 1e6:0.000} M msg/s{pairText} ({seconds * 1000:0} ms; CPU/msg {self:0.00} µs here + {children:0.00} µs in child processes; {sample})");
    }
}

/// <summary>
/// <paramref name="clients"/> clients outside the runtime, each keeping 50 requests in flight (50 sequential loops) to one
/// remote responder; requests plus responses per second.
/// </summary>
internal sealed class RemoteWindowWorkload(int clients, Scenario scenario, Scenario cpu, Scenario broker) : RemoteWorkload
{
    private const int InFlight = 50;

    public override IReadOnlyList<Scenario> Scenarios => [scenario, cpu, broker];

    protected override async Task<object?> PrepareAsync(IRemoteBench system, Plan plan) => await system.PrepareRequestAsync();

    protected override async Task<Iteration> IterateAsync(IRemoteBench system, object? state, Plan plan, bool warm)
    {
        var request = (Func<Task<int>>)state!;
        int total = plan.Quick ? 60_000 : 200_000;
        int loops = clients * InFlight;
        int perLoop = total / loops;
        Measure.Settle();
        GcProbe probe = Probe();
        long start = Stopwatch.GetTimestamp();
        var running = new Task[loops];
        for (int i = 0; i < loops; i++)
        {
            running[i] = Loop(request, perLoop);
        }

        await Task.WhenAll(running);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double rate = 2.0 * perLoop * loops / seconds;
        GcSample sample = probe.Stop();
        (double self, double children) = (sample.Cpu.TotalMicroseconds / (2.0 * perLoop * loops), sample.Children.TotalMicroseconds / (2.0 * perLoop * loops));
        return new Iteration(
            [rate, self, children],
            $"{rate / 1e6:0.000} M msg/s ({perLoop * loops:N0} requests in {seconds * 1000:0} ms; CPU/msg {self:0.00} µs here + {children:0.00} µs in child processes; {sample})");
    }

    private static async Task Loop(Func<Task<int>> request, int count)
    {
        await Task.Yield(); // every loop starts on its own; the caller starts them all first
        for (int i = 0; i < count; i++)
        {
            int answer = await request();
            if (answer != RemotePayload.Size)
            {
                throw new InvalidOperationException($"The responder answered {answer} bytes, not {RemotePayload.Size}.");
            }
        }
    }
}

/// <summary>Sequential requests from outside the runtime to a remote responder; each iteration gives a p50 and a p99.</summary>
internal sealed class RemoteRequestWorkload : RemoteWorkload
{
    public override IReadOnlyList<Scenario> Scenarios => [Scenario.RemoteP50, Scenario.RemoteP99];

    protected override async Task<object?> PrepareAsync(IRemoteBench system, Plan plan) => await system.PrepareRequestAsync();

    protected override async Task<Iteration> IterateAsync(IRemoteBench system, object? state, Plan plan, bool warm)
    {
        var request = (Func<Task<int>>)state!;
        double[] latencies = new double[plan.Quick ? 3_000 : 10_000];
        Measure.Settle();
        GcProbe probe = Probe();
        for (int i = 0; i < latencies.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            int answer = await request();
            latencies[i] = (Stopwatch.GetTimestamp() - start) * 1e6 / Stopwatch.Frequency;
            if (answer != RemotePayload.Size)
            {
                throw new InvalidOperationException($"The responder answered {answer} bytes, not {RemotePayload.Size}.");
            }
        }

        double p50 = Measure.Percentile(latencies, 0.50);
        double p99 = Measure.Percentile(latencies, 0.99);
        return new Iteration([p50, p99], $"p50 {p50:0.0} µs, p99 {p99:0.0} µs ({latencies.Length:N0} requests; {probe})");
    }
}
