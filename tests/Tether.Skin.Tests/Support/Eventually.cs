using System.Diagnostics;

namespace Tether.Skin.Tests.Support;

/// <summary>
/// Awaits a condition with a deadline. The short poll inside is not synchronisation: the test goes on as soon as the
/// condition holds and fails naming the phase when the deadline passes first.
/// </summary>
internal static class Eventually
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(5);

    public static async Task<TimeSpan> Until(Func<bool> condition, TimeSpan deadline, string phase)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(start) > deadline)
            {
                Assert.Fail($"Timed out after {deadline.TotalSeconds:0.#} s waiting for: {phase}.");
            }

            await Task.Delay(s_poll);
        }

        return Stopwatch.GetElapsedTime(start);
    }
}
