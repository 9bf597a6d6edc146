using System.Diagnostics;
using Tether.Tests.TestSupport;
using Xunit.Abstractions;

namespace Tether.Tests;

/// <summary>A million targets fit in one node, and each handles a message.</summary>
[Collection(SerialCollection.Name)]
public sealed class MillionTargetsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Node_OneMillionTargetsEachSentAMessage_EveryTargetHandlesItsMessageOnce()
    {
        const int count = 1_000_000;
        var tally = new Tally(count);
        var stopwatch = Stopwatch.StartNew();
        await using (Node node = Node.Create())
        {
            Func<Tiny> create = static () => new Tiny(); // one delegate for all: a million closures would only measure the test
            var addresses = new Address[count];
            for (int i = 0; i < count; i++)
            {
                addresses[i] = node.Spawn(create);
            }

            TimeSpan spawned = stopwatch.Elapsed;
            Assert.Equal(count, node.Statistics.Targets);

            var hit = new Hit(tally);
            foreach (Address address in addresses)
            {
                node.Send(address, hit);
            }

            await tally.All.Task.Within("every one of the million targets handles its message", TimeSpan.FromMinutes(2));
            TimeSpan handled = stopwatch.Elapsed;

            Assert.Equal(count, tally.Hits);
            Assert.Equal(0, tally.Repeats);
            NodeStatistics stats = node.Statistics;
            Assert.Equal(0, stats.Dropped);
            Assert.Equal(0, stats.DeadLetters);
            Assert.Equal(count, stats.Targets);
            output.WriteLine($"spawned {count:N0} in {spawned.TotalSeconds:0.0} s; all handled at {handled.TotalSeconds:0.0} s; heap {GC.GetTotalMemory(false) / 1024 / 1024} MB");
        }

        output.WriteLine($"stopped at {stopwatch.Elapsed.TotalSeconds:0.0} s");
    }

    private sealed record Hit(Tally Tally);

    private sealed class Tally(int expected)
    {
        private int _hits;
        private int _repeats;

        public TaskCompletionSource All { get; } = Waits.NewSignal();

        public int Hits => Volatile.Read(ref _hits);

        public int Repeats => Volatile.Read(ref _repeats);

        public void Count(bool repeat)
        {
            if (repeat)
            {
                Interlocked.Increment(ref _repeats);
            }

            if (Interlocked.Increment(ref _hits) == expected)
            {
                All.TrySetResult();
            }
        }
    }

    private sealed class Tiny : Target, ITarget<Tiny>
    {
        private int _hits;

        public static void Wire(Channels<Tiny> channels) => channels
            .On<Hit>(static (self, m, ctx) => m.Tally.Count(repeat: ++self._hits > 1));
    }
}
