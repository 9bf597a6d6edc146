using System.Diagnostics;
using System.Runtime;
using Tether;

// The same harness against any build of the library: library-ab.sh builds this program once per commit, with that
// commit's Tether.dll, and runs the builds alternately. Only public API that has not changed since November is used.
//   request N ROUNDS    in-process node.Request from outside any target, int answer (request-p50/p99's shape)
//   pingpong N ROUNDS   one pinger/ponger pair, 100 balls in flight (pingpong-1pair's shape), N round trips per round
//   harness N ROUNDS    request-p50 as Tether.Benchmarks --quick times it: through an async lambda, in rounds of N (5,000)
//                       requests each after two forced full collections, after 50 such rounds of warm-up
string mode = args.Length > 0 ? args[0] : "request";
int n = args.Length > 1 ? int.Parse(args[1]) : 200_000;
int rounds = args.Length > 2 ? int.Parse(args[2]) : 5;
await using Node node = Node.Create(new NodeOptions { Name = "ab" });
if (mode == "request")
{
    Address answerer = node.Spawn(static () => new Answerer());
    for (int i = 0; i < 300_000; i++)
    {
        await node.Request(answerer, Ask.Instance); // warm-up: tiered JIT and PGO settle
    }

    double[] latencies = new double[n];
    for (int r = 0; r < rounds; r++)
    {
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++)
        {
            long start = Stopwatch.GetTimestamp();
            int answer = await node.Request(answerer, Ask.Instance);
            latencies[i] = (Stopwatch.GetTimestamp() - start) * 1e6 / Stopwatch.Frequency;
            if (answer != 42)
            {
                throw new InvalidOperationException($"answered {answer}");
            }
        }

        double mean = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / n;
        double cpuPer = (Environment.CpuUsage.TotalTime - cpu).TotalMicroseconds / n;
        Array.Sort(latencies);
        Console.WriteLine($"round {r}: p50 {latencies[n / 2]:0.000} µs p99 {latencies[n * 99 / 100]:0.000} µs mean {mean:0.000} µs cpu {cpuPer:0.000} µs/request");
    }
}
else if (mode == "harness")
{
    Address answerer = node.Spawn(static () => new Answerer());
    Func<Task<int>> request = async () => await node.Request(answerer, Ask.Instance);
    double[] latencies = new double[n];
    for (int r = -50; r < rounds; r++) // 50 warm-up rounds
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++)
        {
            long start = Stopwatch.GetTimestamp();
            int answer = await request();
            latencies[i] = (Stopwatch.GetTimestamp() - start) * 1e6 / Stopwatch.Frequency;
            if (answer != 42)
            {
                throw new InvalidOperationException($"answered {answer}");
            }
        }

        double mean = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / n;
        double cpuPer = (Environment.CpuUsage.TotalTime - cpu).TotalMicroseconds / n;
        if (r >= 0)
        {
            Array.Sort(latencies);
            Console.WriteLine($"round {r}: p50 {latencies[n / 2]:0.000} µs p99 {latencies[n * 99 / 100]:0.000} µs mean {mean:0.000} µs cpu {cpuPer:0.000} µs/request");
        }
    }
}
else
{
    for (int r = -2; r < rounds; r++) // two warm-up rounds
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address pinger = node.Spawn(() => new Pinger(n, 100, done));
        Address ponger = node.Spawn(static () => new Ponger());
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        long t0 = Stopwatch.GetTimestamp();
        node.Send(pinger, new Serve(ponger));
        await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        double cpuPer = (Environment.CpuUsage.TotalTime - cpu).TotalNanoseconds / (2.0 * n);
        if (r >= 0)
        {
            Console.WriteLine($"round {r}: {2.0 * n / seconds / 1e6:0.00} M msg/s cpu {cpuPer:0.0} ns/msg");
        }

        node.End(pinger);
        node.End(ponger);
    }
}

internal sealed record Ask : IRequest<int>
{
    public static readonly Ask Instance = new();
}

internal sealed class Answerer : Target, ITarget<Answerer>
{
    public static void Wire(Channels<Answerer> channels) => channels.Request<Ask, int>(static (_, _, _) => 42);
}

internal sealed record Serve(Address Ponger);

internal sealed record Ball
{
    public static readonly Ball Instance = new();
}

internal sealed class Pinger(int roundTrips, int inFlight, TaskCompletionSource done) : Target, ITarget<Pinger>
{
    private int _remaining = roundTrips;
    private int _batch;

    public static void Wire(Channels<Pinger> channels) => channels
        .On<Serve>(static (self, m, ctx) => self.SendBatch(m.Ponger, ctx))
        .On<Ball>(static (self, _, ctx) =>
        {
            if (--self._batch == 0)
            {
                self.SendBatch(ctx.Sender, ctx);
            }
        });

    private void SendBatch(Address ponger, Context ctx)
    {
        if (_remaining == 0)
        {
            done.TrySetResult();
            return;
        }

        int n = Math.Min(inFlight, _remaining);
        _remaining -= n;
        _batch = n;
        for (int i = 0; i < n; i++)
        {
            ctx.Send(ponger, Ball.Instance);
        }
    }
}

internal sealed class Ponger : Target, ITarget<Ponger>
{
    public static void Wire(Channels<Ponger> channels) => channels.On<Ball>(static (_, m, ctx) => ctx.Send(ctx.Sender, m));
}
