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

    public static readonly Scenario RemoteBlast = new("remote-blast", "msg/s", Better.Higher, "two nodes: a client sends 32-byte messages fire-and-forget (at most 10,000 unanswered) to an echo on the server node, which sends each back; both directions counted");
    public static readonly Scenario RemoteWindow1 = new("remote-window50-1", "msg/s", Better.Higher, "two nodes: 1 client keeps 50 requests (32 bytes each way) in flight to a responder on the server node; requests + responses per second");
    public static readonly Scenario RemoteWindow4 = new("remote-window50-4", "msg/s", Better.Higher, "two nodes: 4 clients keep 50 requests each in flight (200 in all); requests + responses per second");
    public static readonly Scenario RemoteP50 = new("remote-request-p50", "µs", Better.Lower, "two nodes: sequential request/response (32 bytes each way) from outside the runtime: median latency");
    public static readonly Scenario RemoteP99 = new("remote-request-p99", "µs", Better.Lower, "two nodes: sequential request/response from outside the runtime: 99th percentile latency");

    /// <summary>The in-process scenarios (the default mode).</summary>
    public static IReadOnlyList<Scenario> All { get; } =
        [PingPong1, ValidatedPingPongWorkload.Scenario, PingPong4, PingPongAlloc, RequestP50, RequestP99, Spawn1MSeconds, Spawn1MBytes, Fanout10K, Jobs100K];

    /// <summary>The two-node scenarios (<c>--remote</c>).</summary>
    public static IReadOnlyList<Scenario> Remote { get; } = [RemoteBlast, RemoteWindow1, RemoteWindow4, RemoteP50, RemoteP99];

    /// <summary>Every scenario, in table order.</summary>
    public static IReadOnlyList<Scenario> Every { get; } = [.. All, .. Remote];
}
