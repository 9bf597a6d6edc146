namespace Tether.Benchmarks.Frameworks;

/// <summary>
/// One actor runtime under test, created fresh for each workload. Every method implements the same scenario
/// shape in the runtime's own idiom; the harness (not the runtime) does all timing, so each method either
/// prepares work and returns a "go" delegate, or does exactly the work that is timed.
/// </summary>
internal interface IBenchSystem : IAsyncDisposable
{
    /// <summary>
    /// Spawns <paramref name="pairs"/> ping/pong pairs. The returned delegate starts them all and completes when every
    /// pinger got <paramref name="roundTrips"/> replies, sending in batches of <paramref name="inFlight"/> (Proto.Actor's shape).
    /// </summary>
    Task<Func<Task>> PreparePingPongAsync(int pairs, int roundTrips, int inFlight);

    /// <summary>Spawns a responder; the delegate sends one request from outside the runtime and awaits the answer (42).</summary>
    Task<Func<Task<int>>> PrepareRequestAsync();

    /// <summary>
    /// As <see cref="PreparePingPongAsync"/> with one pair, written as a user writes it from the framework's docs: a new
    /// message object per send and the answer through the framework's reply idiom (Proto.Actor: <c>context.Request</c> and
    /// <c>context.Respond</c>; Akka: <c>Tell</c> and <c>Sender.Tell</c>; Tether: <c>ctx.Send</c> and <c>ctx.Sender</c>).
    /// </summary>
    Task<Func<Task>> PrepareUserStylePingPongAsync(int roundTrips, int inFlight);

    /// <summary>
    /// Spawns a responder to a record request (<c>Quote(string Item)</c>) that answers with a record
    /// (<c>Price(string Item, int Amount)</c>); the delegate sends a new request from outside and returns the amount (42).
    /// </summary>
    Task<Func<Task<int>>> PrepareRecordRequestAsync();

    /// <summary>Proto.Actor's SpawnBenchmark ("skynet"): a tree of <paramref name="size"/> leaves, <paramref name="div"/> children per node; returns the sum.</summary>
    Task<long> SpawnTreeAsync(int size, int div, TimeSpan timeout);

    /// <summary>
    /// Spawns <paramref name="count"/> idle targets from outside (they receive no message) and waits until all have started.
    /// <paramref name="measure"/> is called once with nothing spawned yet and once with all alive; it returns the heap size.
    /// </summary>
    Task<(long Before, long After)> SpawnIdleAsync(int count, Func<long> measure);

    /// <summary>
    /// Spawns <paramref name="workers"/> responders and a coordinator. The delegate sends one request from outside; the coordinator
    /// hands it to a fresh working target (aggregator) that requests every worker, sums the answers and replies.
    /// </summary>
    Task<Func<Task<long>>> PrepareFanoutAsync(int workers);

    /// <summary>Runs <paramref name="jobs"/> tiny jobs, each as a target of its own, at most <paramref name="maxActive"/> at once.</summary>
    Task RunJobsAsync(int jobs, int maxActive);
}

/// <summary>The tiny unit of work a job does, the same for every runtime.</summary>
internal static class TinyWork
{
    private static long s_sink;

    public static long Sink => Volatile.Read(ref s_sink);

    public static void Run(int seed)
    {
        long acc = seed;
        for (int i = 0; i < 64; i++)
        {
            acc = (acc * 31) + i;
        }

        Interlocked.Add(ref s_sink, acc & 1);
    }
}
