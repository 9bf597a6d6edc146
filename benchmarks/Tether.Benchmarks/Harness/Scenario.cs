namespace Tether.Benchmarks.Harness;

/// <summary>Which way is good for a figure.</summary>
internal enum Better
{
    Higher,
    Lower,
}

/// <summary>One row of the result table: a named figure with its unit and direction.</summary>
internal sealed record Scenario(string Name, string Unit, Better Better, string Description)
{
    public static readonly Scenario PingPong1 = new("pingpong-1pair", "msg/s", Better.Higher, "1 ping/pong pair, 100 messages in flight (batches of 100)");
    public static readonly Scenario PingPong4 = new("pingpong-4pairs", "msg/s", Better.Higher, "4 ping/pong pairs at once, 100 in flight per pair");
    public static readonly Scenario PingPongAlloc = new("pingpong-alloc-bytes-per-msg", "B/msg", Better.Lower, "GC.GetTotalAllocatedBytes(precise) delta over a 1-pair ping-pong run / messages");
    public static readonly Scenario RequestP50 = new("request-p50", "µs", Better.Lower, "sequential request/response from outside the runtime: median latency");
    public static readonly Scenario RequestP99 = new("request-p99", "µs", Better.Lower, "sequential request/response from outside the runtime: 99th percentile latency");
    public static readonly Scenario Spawn1MSeconds = new("spawn-1m-seconds", "s", Better.Lower, "Proto.Actor's SpawnBenchmark tree: 1,000,000 leaves (1,111,111 targets), each answers its parent and ends");
    public static readonly Scenario Spawn1MBytes = new("spawn-1m-bytes-per-target", "B", Better.Lower, "managed heap growth per idle target, 1,000,000 spawned from outside, after a full GC");
    public static readonly Scenario Fanout10K = new("fanout-10k", "ms", Better.Lower, "one request; a working target requests 10,000 others and sums the answers");
    public static readonly Scenario Jobs100K = new("jobs-100k", "ms", Better.Lower, "100,000 tiny jobs, one target each, at most 2 x cores running");

    public static IReadOnlyList<Scenario> All { get; } =
        [PingPong1, ValidatedPingPongWorkload.Scenario, PingPong4, PingPongAlloc, RequestP50, RequestP99, Spawn1MSeconds, Spawn1MBytes, Fanout10K, Jobs100K];
}
