using Tether.Nats.Internal;
using Tether.Transport;

namespace Tether.Nats.Tests;

/// <summary>The broker proxy's table of requests awaiting answers: added by callers while the socket reader removes.</summary>
public sealed class PendingTableTests
{
    [Fact]
    public async Task ConcurrentAddsAndRemoves_LoseNothing_AndEachEntryIsRemovedExactlyOnce()
    {
        var table = new PendingTable();
        const int count = 20_000;
        for (long correlation = 2; correlation <= 2 * count; correlation += 2)
        {
            table[correlation] = new PendingRemote(new Sink(), "node x", null, default); // the even ones are there first
        }

        // One thread adds the odd correlations while two race to remove the even ones; then two race for the odd ones.
        int removed = 0;
        int completedTwice = 0;
        void RemoveAll(long first)
        {
            for (long correlation = first; correlation <= 2 * count; correlation += 2)
            {
                if (table.TryRemove(correlation, out PendingRemote? pending))
                {
                    Interlocked.Increment(ref removed);
                    if (!pending.Sink.TryComplete(null))
                    {
                        Interlocked.Increment(ref completedTwice);
                    }
                }
            }
        }

        Task adding = Task.Run(() =>
        {
            for (long correlation = 1; correlation < 2 * count; correlation += 2)
            {
                table[correlation] = new PendingRemote(new Sink(), "node x", null, default);
            }
        });
        await Task.WhenAll(adding, Task.Run(() => RemoveAll(2)), Task.Run(() => RemoveAll(2))).WaitAsync(TimeSpan.FromSeconds(30)); // a hang guard only
        Assert.Equal(count, removed);
        Assert.Equal(count, table.Count);

        await Task.WhenAll(Task.Run(() => RemoveAll(1)), Task.Run(() => RemoveAll(1))).WaitAsync(TimeSpan.FromSeconds(30)); // a hang guard only
        Assert.Equal(2 * count, removed);
        Assert.Equal(0, completedTwice);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Enumerating_GivesASnapshot_ThatMayBeChangedMeanwhile()
    {
        var table = new PendingTable();
        for (long correlation = 1; correlation <= 200; correlation++)
        {
            table[correlation] = new PendingRemote(new Sink(), correlation % 2 == 0 ? "node even" : "node odd", null, default);
        }

        foreach ((long correlation, PendingRemote pending) in table)
        {
            if (pending.Destination == "node even")
            {
                Assert.True(table.TryRemove(correlation, out _)); // removing while enumerating is allowed
            }
        }

        Assert.Equal(100, table.Count);
        Assert.All(table.Values, p => Assert.Equal("node odd", p.Destination));
        Assert.False(table.TryRemove(2, out _));
        Assert.True(table.TryGetValue(199, out PendingRemote? last));
        Assert.Equal("node odd", last.Destination);
    }

    private sealed class Sink : ReplySink
    {
        public override string Describe() => "a test request";

        protected override void OnResponse(object? value)
        {
        }

        protected override void OnError(TetherException error)
        {
        }
    }
}
