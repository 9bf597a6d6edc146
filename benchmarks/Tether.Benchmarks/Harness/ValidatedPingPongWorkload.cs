using System.Diagnostics;
using Tether.Adapters;
using Tether.Benchmarks.Frameworks;

namespace Tether.Benchmarks.Harness;

/// <summary>
/// pingpong-1pair with a declarative 5-rule precondition on the ball's input channel at both ends (Tether only: the
/// peers have no declarative adapters). Each iteration also runs the same targets and messages on a node without
/// adapters and logs the cost of the contract (issue 18's goal: validated at least 0.85 of pingpong-1pair).
/// </summary>
internal sealed class ValidatedPingPongWorkload : Workload
{
    public static readonly Scenario Scenario = new(
        "pingpong-1pair-validated", "msg/s", Better.Higher, "pingpong-1pair whose ball meets a 5-rule contract (required, length, range, oneOf, check) at every mailbox (tether only)");

    private const int InFlight = 100;

    private const string Contract = """
        message: Bench.Volley
        rules:
          - field: tag
            required: true
            length: { min: 1, max: 32 }
          - field: seq
            range: { min: 0 }
          - field: kind
            oneOf: [ping, pong]
          - check: seq <= limit
        """;

    public override IReadOnlyList<Scenario> Scenarios => [Scenario];

    // This workload runs its own loop (two nodes per iteration), so the shared one is not used.
    protected override Task<Iteration> IterateAsync(IBenchSystem system, object? state, Plan plan, bool warm)
        => throw new NotSupportedException();

    public override async Task<WorkloadResult> RunAsync(Func<IBenchSystem> create, Plan plan, Action<string> log)
    {
        Dictionary<Scenario, List<double>> samples = Scenarios.ToDictionary(s => s, _ => new List<double>());
        IBenchSystem system = create();
        bool tether = system is TetherBench;
        await DisposeQuietly(system, log);
        if (!tether)
        {
            log("  (not applicable: declarative adapters are Tether's)");
            return new WorkloadResult(samples, 0);
        }

        MessageAdapters adapters = MessageAdapters.CreateBuilder()
            .Register<Volley>("Bench.Volley")
            .AddYaml(Contract, "pingpong-1pair-validated")
            .Build();
        int roundTrips = plan.Quick ? 200_000 : 1_000_000;

        // One node of each kind for the whole run, a new pair on it per iteration: the shape of pingpong-1pair (one
        // node, a new pair per iteration), so that the contract is the only difference between the two scenarios.
        await using Node plainNode = Node.Create(new NodeOptions { Name = "bench-plain" });
        await using Node validatedNode = Node.Create(new NodeOptions { Name = "bench-validated", Adapters = adapters });
        TimeSpan warmedUp = TimeSpan.Zero;
        for (int i = 0, measured = 0; measured < plan.Iterations; i++)
        {
            // The same warm-up rule as pingpong-1pair (Plan.IsWarmup: at least two seconds), so that the adapters'
            // path is measured tiered up, as the plain ping-pong it is compared with is.
            bool warm = plan.IsWarmup(i, warmedUp);
            long start = Stopwatch.GetTimestamp();
            PingPongRun plain = await RunOnceAsync(plainNode, roundTrips, plan);
            PingPongRun validated = await RunOnceAsync(validatedNode, roundTrips, plan);
            log($"  {(warm ? "warm-up" : "iteration")} {i + 1}: {validated.Rate / 1e6:0.00} M msg/s validated, {plain.Rate / 1e6:0.00} M msg/s without adapters"
                + $" (cost {(1 - (validated.Rate / plain.Rate)) * 100:0.0}%; CPU/msg {validated.CpuPerMessage:0} vs {plain.CpuPerMessage:0} ns)");
            if (warm)
            {
                warmedUp += Stopwatch.GetElapsedTime(start);
            }
            else
            {
                measured++;
                samples[Scenario].Add(validated.Rate);
            }
        }

        return new WorkloadResult(samples, 0);
    }

    private static async Task<PingPongRun> RunOnceAsync(Node node, int roundTrips, Plan plan)
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address pinger = node.Spawn(() => new Pinger(roundTrips, InFlight, finished));
        Address ponger = node.Spawn(static () => new Ponger());
        PingPongRun run = await PingPongRun.TimeAsync(
            () =>
            {
                node.Send(pinger, new Serve(ponger));
                return finished.Task.WaitAsync(plan.Timeout ?? TimeSpan.FromSeconds(60));
            },
            roundTrips);
        return run;
    }

    internal sealed record Volley(string Tag, string Kind, int Seq, int Limit)
    {
        public static readonly Volley Ping = new("bench", "ping", 1, 10);
        public static readonly Volley Pong = new("bench", "pong", 1, 10);
    }

    private sealed record Serve(Address Ponger);

    private sealed class Pinger(int roundTrips, int inFlight, TaskCompletionSource done) : Target, ITarget<Pinger>
    {
        private Volleys _volleys = new(roundTrips, inFlight, done);

        public static void Wire(Channels<Pinger> channels) => channels
            .On<Serve>(static (self, m, ctx) => self.SendBatch(m.Ponger, ctx))
            .On<Volley>(static (self, _, ctx) =>
            {
                if (self._volleys.Returned())
                {
                    self.SendBatch(ctx.Sender, ctx);
                }
            });

        private void SendBatch(Address ponger, Context ctx)
        {
            int n = _volleys.NextBatch();
            for (int i = 0; i < n; i++)
            {
                ctx.Send(ponger, Volley.Ping);
            }
        }
    }

    private sealed class Ponger : Target, ITarget<Ponger>
    {
        public static void Wire(Channels<Ponger> channels)
            => channels.On<Volley>(static (_, _, ctx) => ctx.Send(ctx.Sender, Volley.Pong));
    }
}
