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
    public static readonly Scenario Fanout100K = new("fanout-100k", "ms", Better.Lower, "as fanout-10k with 100,000 workers");
    public static readonly Scenario Fanout10KPerMsg = new("fanout-10k-ns-per-msg", "ns/msg", Better.Lower, "fanout-10k's time / 20,000 messages (10,000 requests + 10,000 answers)");
    public static readonly Scenario Fanout100KPerMsg = new("fanout-100k-ns-per-msg", "ns/msg", Better.Lower, "fanout-100k's time / 200,000 messages (100,000 requests + 100,000 answers)");
    public static readonly Scenario PingPongIdle1K = new("pingpong-1pair-idle1k", "ns/msg", Better.Lower, "pingpong-1pair's wall time per message with 1,000 other idle targets alive on the node");
    public static readonly Scenario PingPongIdle1M = new("pingpong-1pair-idle1m", "ns/msg", Better.Lower, "pingpong-1pair's wall time per message with 1,000,000 other idle targets alive on the node (a fresh runtime)");
    public static readonly Scenario PingPongIdleRatio = new("pingpong-1pair-idle1m-vs-1k", "x", Better.Lower, "pingpong-1pair-idle1m / the median of pingpong-1pair-idle1k, same framework (goal: at most 1.2)");
    public static readonly Scenario PingPongUserStyle = new("pingpong-1pair-userstyle", "msg/s", Better.Higher, "1 pair as a user writes it from the docs: one message in flight (the next ping when the pong arrives), a new message per send, the framework's reply idiom (Proto.Actor: Request + Respond)");
    public static readonly Scenario PingPongUserStyleBatched = new("pingpong-1pair-userstyle-batched", "msg/s", Better.Higher, "pingpong-1pair-userstyle in pingpong-1pair's batches of 100: the idiom's cost alone");
    public static readonly Scenario RequestRecordP50 = new("request-record-p50", "µs", Better.Lower, "request-p50 with a record request (a string field) answered by a record (string + int), a new request each call");
    public static readonly Scenario RequestRecordP99 = new("request-record-p99", "µs", Better.Lower, "request-record's 99th percentile latency");
    public static readonly Scenario Jobs100K = new("jobs-100k", "ms", Better.Lower, "100,000 tiny jobs, one target each, at most 2 x cores running");

    public static readonly Scenario RemoteBlast = new("remote-blast", "msg/s", Better.Higher, "two nodes: a client sends 32-byte messages fire-and-forget (at most 10,000 unanswered) to an echo on the server node, which sends each back; both directions counted");
    public static readonly Scenario RemoteWindow1 = new("remote-window50-1", "msg/s", Better.Higher, "two nodes: 1 client keeps 50 requests (32 bytes each way) in flight to a responder on the server node; requests + responses per second");
    public static readonly Scenario RemoteWindow4 = new("remote-window50-4", "msg/s", Better.Higher, "two nodes: 4 clients keep 50 requests each in flight (200 in all); requests + responses per second");
    public static readonly Scenario RemoteBlastCpu = new("remote-blast-cpu-us-per-msg", "µs/msg", Better.Lower, "remote-blast: CPU time of the benchmark process (both nodes) per message");
    public static readonly Scenario RemoteBlastBrokerCpu = new("remote-blast-broker-cpu-us-per-msg", "µs/msg", Better.Lower, "remote-blast: CPU time of child processes (the nats-server broker; none for Proto.Remote and Akka.Remote) per message");
    public static readonly Scenario RemoteBlast3 = new("remote-blast-3nodes", "msg/s", Better.Higher, "three nodes at once, each blasting as in remote-blast to an echo on the next (a ring of 3 pairs): msg/s per pair (goal: at least 0.8x remote-blast)");
    public static readonly Scenario RemoteBlast3Cpu = new("remote-blast-3nodes-cpu-us-per-msg", "µs/msg", Better.Lower, "remote-blast-3nodes: CPU time of the benchmark process (all three nodes) per message");
    public static readonly Scenario RemoteBlast3BrokerCpu = new("remote-blast-3nodes-broker-cpu-us-per-msg", "µs/msg", Better.Lower, "remote-blast-3nodes: CPU time of child processes (the broker) per message");
    public static readonly Scenario RemoteBlast3Ratio = new("remote-blast-3nodes-vs-2", "x", Better.Higher, "remote-blast-3nodes / the median of remote-blast, same framework and run (goal: at least 0.8); needs both, which it runs");
    public static readonly Scenario RemoteWindow1Cpu = new("remote-window50-1-cpu-us-per-msg", "µs/msg", Better.Lower, "remote-window50-1: CPU time of the benchmark process per message (requests + responses)");
    public static readonly Scenario RemoteWindow1BrokerCpu = new("remote-window50-1-broker-cpu-us-per-msg", "µs/msg", Better.Lower, "remote-window50-1: CPU time of child processes (the broker) per message");
    public static readonly Scenario RemoteWindow4Cpu = new("remote-window50-4-cpu-us-per-msg", "µs/msg", Better.Lower, "remote-window50-4: CPU time of the benchmark process per message (requests + responses)");
    public static readonly Scenario RemoteWindow4BrokerCpu = new("remote-window50-4-broker-cpu-us-per-msg", "µs/msg", Better.Lower, "remote-window50-4: CPU time of child processes (the broker) per message");
    public static readonly Scenario RemoteP50 = new("remote-request-p50", "µs", Better.Lower, "two nodes: sequential request/response (32 bytes each way) from outside the runtime: median latency");
    public static readonly Scenario RemoteP99 = new("remote-request-p99", "µs", Better.Lower, "two nodes: sequential request/response from outside the runtime: 99th percentile latency");

    /// <summary>
    /// Rows computed from two others of the same framework and run (no workload of their own): each sample of
    /// <c>Of</c> divided by the median of <c>Per</c>. Asking for one runs both.
    /// </summary>
    public static IReadOnlyList<(Scenario Ratio, Scenario Of, Scenario Per)> Derived { get; } = [(RemoteBlast3Ratio, RemoteBlast3, RemoteBlast)];

    /// <summary>The in-process scenarios (the default mode).</summary>
    public static IReadOnlyList<Scenario> All { get; } =
        [
            PingPong1, ValidatedPingPongWorkload.Scenario, PingPongUserStyle, PingPongUserStyleBatched, PingPong4, PingPongAlloc, PingPongIdle1K, PingPongIdle1M, PingPongIdleRatio,
            RequestP50, RequestP99, RequestRecordP50, RequestRecordP99, Spawn1MSeconds, Spawn1MBytes, Fanout10K, Fanout100K, Fanout10KPerMsg, Fanout100KPerMsg, Jobs100K,
        ];

    /// <summary>The two-node scenarios (<c>--remote</c>).</summary>
    public static IReadOnlyList<Scenario> Remote { get; } = [
            RemoteBlast, RemoteBlastCpu, RemoteBlastBrokerCpu, RemoteBlast3, RemoteBlast3Cpu, RemoteBlast3BrokerCpu, RemoteBlast3Ratio,
            RemoteWindow1, RemoteWindow1Cpu, RemoteWindow1BrokerCpu, RemoteWindow4, RemoteWindow4Cpu, RemoteWindow4BrokerCpu, RemoteP50, RemoteP99,
        ];

    /// <summary>Every scenario, in table order.</summary>
    public static IReadOnlyList<Scenario> Every { get; } = [.. All, .. Remote];
}
