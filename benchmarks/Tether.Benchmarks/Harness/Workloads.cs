using System.Diagnostics;
using Tether.Benchmarks.Frameworks;

namespace Tether.Benchmarks.Harness;

/// <summary>How many times to run a workload, and how big it is.</summary>
internal sealed record Plan(int Warmup, int Iterations, bool Quick, TimeSpan? Timeout)
{
    /// <summary>
    /// Warm-up goes on past <see cref="Warmup"/> iterations until this much time was spent warming up (at most 50
    /// iterations), so that tiered JIT and dynamic PGO have settled even when one iteration is short.
    /// </summary>
    public TimeSpan MinWarmupTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>True while iteration <paramref name="i"/> (0-based) is still a warm-up, given the time warmed up so far.</summary>
    public bool IsWarmup(int i, TimeSpan warmedUp) => i < Warmup || (i < 50 && warmedUp < MinWarmupTime);
}

/// <summary>What one framework produced for one workload.</summary>
internal sealed record WorkloadResult(Dictionary<Scenario, List<double>> Samples, int Hangs);

/// <summary>One measured (or warm-up) iteration: a value per scenario and a line for the log.</summary>
internal sealed record Iteration(double[] Values, string Text);

/// <summary>
/// It runs one framework at a time: warm-up iterations
/// (discarded), then measured iterations; each iteration gives one sample per scenario.
/// </summary>
/// <remarks>
/// An iteration that does not end within the timeout is a hang: it is logged and counted, the runtime is shut down
/// and a fresh one set up, and the iteration is run again (at most <see cref="MaxHangs"/> times, then the framework
/// fails the workload). The count goes into the table, so a hang is never hidden.
/// </remarks>
internal interface IWorkload
{
    IReadOnlyList<Scenario> Scenarios { get; }

    /// <summary>What --quick changes beyond iteration counts and that a reader of the table must know, or null.</summary>
    string? QuickNote { get; }

    /// <summary>Warm-up and measured iteration counts when the user names none.</summary>
    (int Warmup, int Iterations) DefaultCounts(bool quick);
}

/// <summary>A workload on the in-process runtimes (<see cref="IBenchSystem"/>).</summary>
internal abstract class Workload : Workload<IBenchSystem>;

/// <summary>
/// A piece of work that yields one or more scenarios' figures, on one kind of system under test
/// (<see cref="IBenchSystem"/> in process, <see cref="IRemoteBench"/> across two nodes).
/// </summary>
internal abstract class Workload<TSystem> : IWorkload
    where TSystem : class, IAsyncDisposable
{
    private const int MaxHangs = 3;

    public abstract IReadOnlyList<Scenario> Scenarios { get; }

    /// <summary>What --quick changes beyond iteration counts and that a reader of the table must know, or null.</summary>
    public virtual string? QuickNote => null;

    /// <summary>The longest one iteration may take (unless --timeout says otherwise).</summary>
    protected virtual TimeSpan DefaultTimeout => TimeSpan.FromSeconds(10);

    /// <summary>True when every iteration needs a fresh runtime (spawn scenarios); otherwise one runtime serves all iterations.</summary>
    protected virtual bool FreshRuntimePerIteration => false;

    /// <summary>Warm-up and measured iteration counts when the user names none.</summary>
    public virtual (int Warmup, int Iterations) DefaultCounts(bool quick) => quick ? (1, 3) : (2, 5);

    /// <summary>Prepares a fresh runtime (spawns what every iteration uses); the result is handed to each iteration.</summary>
    protected virtual Task<object?> SetupAsync(TSystem system, Plan plan) => Task.FromResult<object?>(null);

    /// <summary>Runs one iteration; <paramref name="warm"/> tells a warm-up (which may be smaller).</summary>
    protected abstract Task<Iteration> IterateAsync(TSystem system, object? state, Plan plan, bool warm);

    public virtual async Task<WorkloadResult> RunAsync(Func<TSystem> create, Plan plan, Action<string> log)
    {
        Dictionary<Scenario, List<double>> samples = Scenarios.ToDictionary(s => s, _ => new List<double>());
        TimeSpan timeout = plan.Timeout ?? DefaultTimeout;
        int hangs = 0;
        TSystem? system = null;
        object? state = null;
        try
        {
            TimeSpan warmedUp = TimeSpan.Zero;
            int restartedAt = 0; // a restarted runtime warms up again, as a new one does
            for (int i = 0, measured = 0; measured < plan.Iterations; i++)
            {
                bool warm = FreshRuntimePerIteration ? i < plan.Warmup : plan.IsWarmup(i - restartedAt, warmedUp);
                if (system is null)
                {
                    system = create();
                    state = await SetupAsync(system, plan);
                }

                long start = Stopwatch.GetTimestamp();
                Iteration result;
                try
                {
                    result = await IterateAsync(system, state, plan, warm).WaitAsync(timeout);
                }
                catch (TimeoutException)
                {
                    hangs++;
                    log($"  HANG: iteration {i + 1} did not end within {timeout.TotalSeconds:0} s; restarting the runtime ({hangs} so far)");
                    TSystem hung = system;
                    system = null;
                    restartedAt = i + 1;
                    warmedUp = TimeSpan.Zero;
                    await DisposeQuietly(hung, log);
                    if (hangs >= MaxHangs)
                    {
                        throw new TimeoutException($"{hangs} iterations hung (no end within {timeout.TotalSeconds:0} s each).");
                    }

                    continue;
                }

                log($"  {(warm ? "warm-up" : "iteration")} {i + 1}: {result.Text}");
                if (warm)
                {
                    warmedUp += Stopwatch.GetElapsedTime(start);
                }
                else
                {
                    measured++;
                    for (int s = 0; s < Scenarios.Count; s++)
                    {
                        samples[Scenarios[s]].Add(result.Values[s]);
                    }
                }

                if (FreshRuntimePerIteration)
                {
                    TSystem used = system;
                    system = null;
                    await DisposeQuietly(used, log);
                }
            }
        }
        finally
        {
            if (system is not null)
            {
                await DisposeQuietly(system, log);
            }
        }

        return new WorkloadResult(samples, hangs);
    }

    protected static async Task DisposeQuietly(TSystem system, Action<string> log)
    {
        try
        {
            await system.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (Exception ex)
        {
            log($"  (shutting the runtime down failed: {ex.GetType().Name}: {ex.Message})");
        }
    }

    /// <summary>Starts counting what one iteration allocates and collects, for the log (not for the table).</summary>
    protected static GcProbe Probe() => GcProbe.Start();
}

/// <summary>
/// Allocations, collections and CPU time (this process's, and that of its child processes such as a nats-server) since
/// <see cref="Workload.Probe"/>: printed with each iteration as a cheap profile. CPU per message is steadier than the
/// rate on a shared machine.
/// </summary>
internal readonly record struct GcProbe(long Allocated, int Gen0, int Gen1, int Gen2, TimeSpan Cpu, TimeSpan Children)
{
    /// <summary>Starts counting now.</summary>
    /// <remarks>
    /// The child processes' CPU is read first, and last in <see cref="Stop"/>: reading it scans /proc, which allocates about
    /// 10 KB per process on the machine (70 processes: 0.8 MB) and takes CPU, neither of which is the iteration's.
    /// </remarks>
    public static GcProbe Start()
    {
        TimeSpan children = ChildCpu.Read();
        return new(GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), Environment.CpuUsage.TotalTime, children);
    }

    /// <summary>What was allocated, collected and spent since <see cref="Start"/>; the child processes' CPU read last.</summary>
    public GcSample Stop()
    {
        long allocated = GC.GetTotalAllocatedBytes(precise: false) - Allocated;
        int gen0 = GC.CollectionCount(0) - Gen0, gen1 = GC.CollectionCount(1) - Gen1, gen2 = GC.CollectionCount(2) - Gen2;
        TimeSpan cpu = Environment.CpuUsage.TotalTime - Cpu;
        return new GcSample(allocated, gen0, gen1, gen2, cpu, ChildCpu.Read() - Children);
    }

    public override string ToString() => Stop().ToString();
}

/// <summary>One iteration's figures from <see cref="GcProbe.Stop"/>.</summary>
internal readonly record struct GcSample(long Allocated, int Gen0, int Gen1, int Gen2, TimeSpan Cpu, TimeSpan Children)
{
    public override string ToString()
    {
        string text = $"alloc {Allocated / 1e6:0.0} MB, GCs {Gen0}/{Gen1}/{Gen2}, cpu {Cpu.TotalMilliseconds:0} ms";
        return Children > TimeSpan.Zero ? $"{text} + {Children.TotalMilliseconds:0} ms in child processes" : text;
    }
}

/// <summary>The CPU time of this process's running child processes (Linux: /proc), e.g. the nats-server of a remote workload.</summary>
internal static class ChildCpu
{
    public static TimeSpan Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return TimeSpan.Zero;
        }

        long ticks = 0;
        string self = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after "pid (comm) "
                if (fields[1] == self)
                {
                    ticks += long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture); // utime + stime
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // a process that ended meanwhile, or one we may not read
            }
        }

        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ
    }
}

/// <summary>Ping-pong pairs, Proto.Actor's InprocessBenchmark shape: the pinger sends a batch, waits for all of it, sends the next.</summary>
internal sealed class PingPongWorkload(int pairs, Scenario scenario) : Workload
{
    private const int InFlight = 100;

    public override IReadOnlyList<Scenario> Scenarios => [scenario];

    protected override async Task<Iteration> IterateAsync(IBenchSystem system, object? state, Plan plan, bool warm)
    {
        int roundTrips = (plan.Quick ? 200_000 : 1_000_000) / (pairs > 1 ? 2 : 1);
        Func<Task> go = await system.PreparePingPongAsync(pairs, roundTrips, InFlight);
        return (await PingPongRun.TimeAsync(go, (long)roundTrips * pairs)).ToIteration();
    }
}

/// <summary>
/// pingpong-1pair written as a user writes it from each framework's docs (<see cref="IBenchSystem.PrepareUserStylePingPongAsync"/>):
/// a new message per send and the framework's reply idiom; <paramref name="inFlight"/> 1 is the obvious program (the pinger
/// sends the next ping when the pong arrives), 100 is the benchmark's batches with the user's idiom.
/// </summary>
internal sealed class UserStylePingPongWorkload(int inFlight, Scenario scenario) : Workload
{
    public override IReadOnlyList<Scenario> Scenarios => [scenario];
    protected override async Task<Iteration> IterateAsync(IBenchSystem system, object? state, Plan plan, bool warm)
    {
        int roundTrips = plan.Quick ? 200_000 : 1_000_000;
        Func<Task> go = await system.PrepareUserStylePingPongAsync(roundTrips, inFlight);
        return (await PingPongRun.TimeAsync(go, roundTrips)).ToIteration();
    }
}

/// <summary>Bytes the whole process allocates per message during a 1-pair ping-pong run (the runtime's own cost: messages are reused).</summary>
internal sealed class AllocationWorkload : Workload
{
    private const int InFlight = 100;

    public override IReadOnlyList<Scenario> Scenarios => [Scenario.PingPongAlloc];

    protected override async Task<Iteration> IterateAsync(IBenchSystem system, object? state, Plan plan, bool warm)
    {
        int roundTrips = plan.Quick ? 100_000 : 500_000;
        Func<Task> go = await system.PreparePingPongAsync(1, roundTrips, InFlight);
        Measure.Settle();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await go();
        long after = GC.GetTotalAllocatedBytes(precise: true);
        double perMessage = (after - before) / (2.0 * roundTrips);
        return new Iteration([perMessage], $"{perMessage:0.0} B/msg");
    }
}

/// <summary>Sequential requests from outside the runtime to one responder; each iteration gives a p50 and a p99.</summary>
/// <remarks>
/// <paramref name="record"/>: the request is a record with a string and the answer a record (<c>Price(Item, Amount)</c>), a
/// new request per call, as in README's examples; otherwise a shared request answered by an int (Tether's unboxed fast path).
/// </remarks>
internal sealed class RequestWorkload(Scenario p50, Scenario p99, bool record) : Workload
{
    public override IReadOnlyList<Scenario> Scenarios => [p50, p99];

    protected override async Task<object?> SetupAsync(IBenchSystem system, Plan plan)
        => record ? await system.PrepareRecordRequestAsync() : await system.PrepareRequestAsync();

    protected override async Task<Iteration> IterateAsync(IBenchSystem system, object? state, Plan plan, bool warm)
    {
        var request = (Func<Task<int>>)state!;
        double[] latencies = new double[plan.Quick ? 5_000 : 20_000];
        Measure.Settle();
        GcProbe probe = Probe();
        for (int i = 0; i < latencies.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            int answer = await request();
            latencies[i] = (Stopwatch.GetTimestamp() - start) * 1e6 / Stopwatch.Frequency; // raw ticks: TimeSpan would round to 0.1 µs
            if (answer != 42)
            {
                throw new InvalidOperationException($"The responder answered {answer}, not 42.");
            }
        }

        double p50 = Measure.Percentile(latencies, 0.50);
        double p99 = Measure.Percentile(latencies, 0.99);
        return new Iteration([p50, p99], $"p50 {p50:0.0} µs, p99 {p99:0.0} µs ({latencies.Length:N0} requests; {probe})");
    }
}

/// <summary>Proto.Actor's SpawnBenchmark (skynet) with 1,000,000 leaves and 10 children per node, in a fresh runtime each iteration.</summary>
internal sealed class SpawnTreeWorkload : Workload
{
    private const int Size = 1_000_000;
    private const int Div = 10;

    public override IReadOnlyList<Scenario> Scenarios => [Scenario.Spawn1MSeconds];

    public override string QuickNote => "spawn-1m-seconds: --quick builds a 100,000-leaf tree (111,111 targets), not 1,000,000.";

    protected override TimeSpan DefaultTimeout => TimeSpan.FromMinutes(5);

    protected override bool FreshRuntimePerIteration => true;

    public override (int Warmup, int Iterations) DefaultCounts(bool quick) => quick ? (1, 2) : (1, 5);

    protected override async Task<Iteration> IterateAsync(IBenchSystem system, object? state, Plan plan, bool warm)
    {
        int measured = plan.Quick ? Size / 10 : Size;
        int size = warm ? measured / 10 : measured; // a smaller tree warms the code up without a second full-size run
        Measure.Settle();
        GcProbe probe = Probe();
        long start = Stopwatch.GetTimestamp();
        long sum = await system.SpawnTreeAsync(size, Div, plan.Timeout ?? DefaultTimeout);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long expected = (long)size * (size - 1) / 2;
        if (sum != expected)
        {
            throw new InvalidOperationException($"The tree summed to {sum}, not {expected}.");
        }

        return new Iteration([seconds], $"{seconds:0.000} s for {size:N0} leaves ({probe})");
    }
}

/// <summary>Heap growth per idle target: 1,000,000 targets spawned from outside that receive nothing, references kept.</summary>
internal sealed class SpawnIdleWorkload : Workload
{
    private const int Count = 1_000_000;

    public override IReadOnlyList<Scenario> Scenarios => [Scenario.Spawn1MBytes];

    public override string QuickNote => "spawn-1m-bytes-per-target: --quick spawns 100,000 idle targets, not 1,000,000.";

    protected override TimeSpan DefaultTimeout => TimeSpan.FromMinutes(5);

    protected override bool FreshRuntimePerIteration => true;

    public override (int Warmup, int Iterations) DefaultCounts(bool quick) => quick ? (1, 1) : (1, 5);

    private const long Slack = 64_000_000;

    protected override async Task<Iteration> IterateAsync(IBenchSystem system, object? state, Plan plan, bool warm)
    {
        int count = warm ? 10_000 : plan.Quick ? Count / 10 : Count;

        // Exercise the fresh runtime first: a disposed Proto.Actor system stayed reachable (1.5 GB) until a new one ran
        // messages, presumably through a reference to its last scheduled mailbox, and its release in the middle of the
        // measurement was subtracted from it.
        Func<Task> flush = await system.PreparePingPongAsync(1, 10_000, 100);
        await flush();

        long start = Stopwatch.GetTimestamp();
        bool first = true;

        // "before" waits until the heap is back near the lowest level seen in this process: the previous iteration's
        // runtime (or the previous framework's) may take seconds to become unreachable after its shutdown.
        long Heap()
        {
            long heap = first && Measure.Floor != long.MaxValue
                ? Measure.HeapAfterFullGc(Measure.Floor + Slack, TimeSpan.FromSeconds(60))
                : Measure.HeapAfterFullGc();
            first = false;
            return heap;
        }

        (long before, long after) = await system.SpawnIdleAsync(count, Heap);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double perTarget = (after - before) / (double)count;
        string warning = before > Measure.Floor + Slack ? " WARNING: the heap did not come back to its floor before spawning; this figure is suspect" : string.Empty;
        return new Iteration(
            [perTarget],
            $"{perTarget:0} B/target for {count:N0} (heap {before / 1e6:0} MB -> {after / 1e6:0} MB; spawn and full GCs {seconds:0.00} s){warning}");
    }
}

/// <summary>
/// One request from outside; a working target fans out to <paramref name="workers"/> workers and sums their answers. Two
/// figures per iteration: the whole fan-out in ms, and that time per message (a request and an answer per worker).
/// </summary>
internal sealed class FanoutWorkload(int workers, Scenario time, Scenario perMessage) : Workload
{
    public override IReadOnlyList<Scenario> Scenarios => [time, perMessage];

    public override (int Warmup, int Iterations) DefaultCounts(bool quick) => quick ? (3, 5) : (5, 15);

    protected override async Task<object?> SetupAsync(IBenchSystem system, Plan plan) => await system.PrepareFanoutAsync(workers);

    protected override async Task<Iteration> IterateAsync(IBenchSystem system, object? state, Plan plan, bool warm)
    {
        var fanout = (Func<Task<long>>)state!;
        Measure.Settle();
        GcProbe probe = Probe();
        long start = Stopwatch.GetTimestamp();
        long sum = await fanout();
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (sum != workers)
        {
            throw new InvalidOperationException($"The aggregator summed {sum}, not {workers}.");
        }

        double perMessage = ms * 1e6 / (2.0 * workers);
        return new Iteration([ms, perMessage], $"{ms:0.00} ms, {perMessage:0} ns/msg ({probe})");
    }
}

/// <summary>100,000 tiny jobs, each a target of its own, at most 2 x cores running at once.</summary>
internal sealed class JobsWorkload : Workload
{
    private const int Jobs = 100_000;

    public override IReadOnlyList<Scenario> Scenarios => [Scenario.Jobs100K];

    protected override TimeSpan DefaultTimeout => TimeSpan.FromSeconds(60);

    protected override async Task<Iteration> IterateAsync(IBenchSystem system, object? state, Plan plan, bool warm)
    {
        Measure.Settle();
        GcProbe probe = Probe();
        long start = Stopwatch.GetTimestamp();
        await system.RunJobsAsync(Jobs, 2 * Environment.ProcessorCount);
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return new Iteration([ms], $"{ms:0} ms ({probe})");
    }
}
