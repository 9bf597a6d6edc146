namespace Tether.Benchmarks.Frameworks;

/// <summary>
/// The pinger's counts in every ping-pong scenario, the same for every runtime (Proto.Actor's InprocessBenchmark shape):
/// <c>roundTrips</c> balls in batches of <c>inFlight</c>; the next batch goes when the last ball of the current one is back,
/// and <c>done</c> completes when every ball is back. Each runtime keeps its own actor and its own send idiom around it.
/// A mutable struct held in a field of the pinger, so that it costs what the fields it replaces did.
/// </summary>
internal struct Volleys(int roundTrips, int inFlight, TaskCompletionSource done)
{
    private int _remaining = roundTrips;
    private int _batch;

    /// <summary>
    /// Starts the next batch and returns how many balls to send now; 0 when every round trip is done (<c>done</c> is then
    /// completed).
    /// </summary>
    public int NextBatch()
    {
        if (_remaining == 0)
        {
            done.TrySetResult();
            return 0;
        }

        int n = Math.Min(inFlight, _remaining);
        _remaining -= n;
        _batch = n;
        return n;
    }

    /// <summary>A ball came back: true when it was the last of its batch (then the next batch goes).</summary>
    public bool Returned() => --_batch == 0;
}
