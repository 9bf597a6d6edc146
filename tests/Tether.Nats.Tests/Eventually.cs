using System.Diagnostics;

namespace Tether.Nats.Tests;

/// <summary>Polls a condition until it holds, failing the test with the phase's name after a deadline (never a bare sleep).</summary>
internal static class Eventually
{
    public static Task Until(Func<bool> condition, string phase, TimeSpan deadline)
        => Until(() => Task.FromResult(condition()), phase, deadline);

    public static async Task Until(Func<Task<bool>> condition, string phase, TimeSpan deadline)
    {
        long start = Stopwatch.GetTimestamp();
        while (!await condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < deadline, $"timed out waiting for: {phase}");
            await Task.Delay(10); // polling a condition with a deadline
        }
    }
}
