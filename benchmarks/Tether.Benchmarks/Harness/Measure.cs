using System.Runtime;

namespace Tether.Benchmarks.Harness;

/// <summary>Small statistics and heap helpers.</summary>
internal static class Measure
{
    /// <summary>Collects fully (twice, with finalizers in between) so the next measurement starts from a quiet heap.</summary>
    public static void Settle()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>The managed heap size after a full, forced collection (<see cref="GC.GetTotalMemory(bool)"/> with true).</summary>
    /// <remarks>
    /// A runtime shut down just before may still be freeing its targets in the background, so this measures until
    /// two readings one second apart agree within 1 MB (at most 10 tries).
    /// </remarks>
    private static long s_floor = long.MaxValue;

    /// <summary>The lowest heap size any measurement in this process has seen.</summary>
    public static long Floor => Volatile.Read(ref s_floor);

    public static long HeapAfterFullGc() => HeapAfterFullGc(long.MaxValue, TimeSpan.Zero);

    /// <summary>
    /// Waits (at most <paramref name="patience"/>) until the heap is back within <paramref name="slack"/> bytes of <see cref="Floor"/>:
    /// a runtime that was shut down may go on ending its targets in the background, and must not weigh on what runs next.
    /// </summary>
    /// <returns>True when the heap came back.</returns>
    public static bool WaitForQuietHeap(long slack, TimeSpan patience)
    {
        long floor = Floor == long.MaxValue ? HeapAfterFullGc() : Floor;
        return HeapAfterFullGc(floor + slack, patience) <= floor + slack;
    }

    /// <summary>
    /// As <see cref="HeapAfterFullGc()"/>, but first waits (collecting once a second, at most <paramref name="patience"/>)
    /// until the heap is at most <paramref name="ceiling"/>: a runtime shut down earlier may keep its targets reachable
    /// for a while, and their release in the middle of a measurement would be subtracted from it.
    /// </summary>
    public static long HeapAfterFullGc(long ceiling, TimeSpan patience)
    {
        long deadline = Environment.TickCount64 + (long)patience.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            Settle();
            if (GC.GetTotalMemory(forceFullCollection: true) <= ceiling)
            {
                break;
            }

            Thread.Sleep(1000);
        }

        Settle();
        long last = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < 10; i++)
        {
            Thread.Sleep(1000);
            Settle();
            long now = GC.GetTotalMemory(forceFullCollection: true);
            if (Math.Abs(now - last) < 1_000_000)
            {
                last = now;
                break;
            }

            last = now;
        }

        long floor;
        do
        {
            floor = Volatile.Read(ref s_floor);
        }
        while (last < floor && Interlocked.CompareExchange(ref s_floor, last, floor) != floor);

        return last;
    }

    public static double Median(IReadOnlyList<double> values) => Percentile(values, 0.5);

    /// <summary>Nearest-rank percentile of <paramref name="values"/> (need not be sorted).</summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        double[] sorted = values.Order().ToArray();
        if (p == 0.5 && sorted.Length % 2 == 0)
        {
            return (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }

        int rank = (int)Math.Ceiling(p * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
