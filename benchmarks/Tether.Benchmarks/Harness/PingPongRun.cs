using System.Diagnostics;

namespace Tether.Benchmarks.Harness;

/// <summary>
/// One timed ping-pong run and its figures. <see cref="TimeAsync"/> is the timed part of every ping-pong scenario, the
/// same for each runtime and workload: the heap settled, the clock started, the pinger(s) run to the end, two messages
/// counted per round trip.
/// </summary>
internal readonly record struct PingPongRun(double Rate, double Seconds, double CpuPerMessage, GcProbe Probe)
{
    /// <summary>Times <paramref name="go"/>, which completes when <paramref name="roundTrips"/> round trips (over all pairs) are done.</summary>
    public static async Task<PingPongRun> TimeAsync(Func<Task> go, long roundTrips)
    {
        Measure.Settle();
        GcProbe probe = GcProbe.Start();
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        long start = Stopwatch.GetTimestamp();
        await go();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double messages = 2.0 * roundTrips;
        double cpuPerMessage = (Environment.CpuUsage.TotalTime - cpu).TotalNanoseconds / messages; // all threads, idle spinning included
        return new PingPongRun(messages / seconds, seconds, cpuPerMessage, probe);
    }

    /// <summary>The iteration: the rate (messages per second) for the table, the rest for the log.</summary>
    public Iteration ToIteration() => new([Rate], $"{Rate / 1e6:0.00} M msg/s ({Seconds * 1000:0} ms; {CpuPerMessage:0} ns CPU/msg; {Probe})");
}
