using Tether.Internal;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>The deadline sweep: every request ends at its own deadline, whatever mix of timeouts, and memory stays bounded.</summary>
public sealed class DeadlineTests
{
    [Fact]
    public async Task Request_FortyDistinctTimeoutsInRandomOrder_EachFailsAtItsOwnDeadlineNotBefore()
    {
        var time = new ManualTimeProvider();
        await using Node node = Node.Create(new NodeOptions { TimeProvider = time });
        Address probe = node.Spawn(() => new Probe());

        // More distinct timeouts than the sweeper keeps queues for, so some share the scanned queue.
        int[] millis = [.. Enumerable.Range(1, 40).Select(i => i * 50).OrderBy(i => (i * 7919) % 41)];
        ValueTask<int>[] requests = [.. millis.Select(ms => node.Request(probe, new Never(), TimeSpan.FromMilliseconds(ms)))];
        await node.Request(probe, new Ping(0)).Within("a ping queued after the unanswered requests");

        for (int elapsed = 0; elapsed <= 2_000; elapsed += 10)
        {
            for (int i = 0; i < millis.Length; i++)
            {
                bool due = elapsed >= millis[i] + 20; // a deadline is seen by the next sweep, at most 20 ms later
                bool early = elapsed < millis[i];
                Assert.False(early && requests[i].IsCompleted, $"the {millis[i]} ms request ended at {elapsed} ms, before its deadline");
                Assert.False(due && !requests[i].IsCompleted, $"the {millis[i]} ms request was still pending at {elapsed} ms");
            }

            time.Advance(TimeSpan.FromMilliseconds(10));
        }

        foreach (ValueTask<int> request in requests)
        {
            await request.FailsWith(ErrorCodes.Timeout, "each request at its own deadline");
        }

        Assert.Equal(0, node.Statistics.PendingRequests);
    }

    [Fact]
    public async Task Request_ManyAnsweredBehindOneThatNeverIs_AreNotKeptUntilItsDeadline()
    {
        var time = new ManualTimeProvider();
        await using Node node = Node.Create(new NodeOptions { TimeProvider = time });
        Address probe = node.Spawn(() => new Probe());
        ValueTask<int> stuck = node.Request(probe, new Never());

        for (int i = 0; i < 50_000; i++)
        {
            await node.Request(probe, new Ping(i)).Within("a ping behind the stuck request");
        }

        Assert.Equal(1, node.Statistics.PendingRequests);
        Assert.True(node.Deadlines.Stored <= 2_048, $"{node.Deadlines.Stored} entries held for one pending request: answered requests are kept");
        Assert.False(stuck.IsCompleted);
    }

    [Fact]
    public async Task Request_TimeoutOfTimeSpanMaxValue_DoesNotEndAtOnce()
    {
        var time = new ManualTimeProvider();
        await using Node node = Node.Create(new NodeOptions { TimeProvider = time });
        Address probe = node.Spawn(() => new Probe());

        time.Advance(TimeSpan.FromSeconds(1)); // a clock past zero: now + the largest span overflows
        ValueTask<int> request = node.Request(probe, new Never(), TimeSpan.MaxValue);
        await node.Request(probe, new Ping(0)).Within("a ping queued after the unanswered request");
        time.Advance(TimeSpan.FromMinutes(1));

        Assert.False(request.IsCompleted, "a request with the largest timeout wrapped round to a deadline in the past");
        Assert.Equal(1, node.Statistics.PendingRequests);
    }

    [Fact]
    public async Task Request_SentAfterTheNodeStopped_FailsAtOnceRatherThanHanging()
    {
        Node node = Node.Create();
        Address probe = node.Spawn(() => new Probe());
        await node.DisposeAsync();

        ValueTask<int> late = node.Request(probe, new Ping(1));

        Assert.True(late.IsCompleted, "a request after the node stopped would wait for a sweep that never comes");
        await Assert.ThrowsAsync<TetherException>(async () => await late);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Request_ManyThreadsAtOnce_AllAnsweredAndNonePending(int round)
    {
        await using Node node = Node.Create();
        Address probe = node.Spawn(() => new Probe(), new SpawnOptions { MailboxCapacity = 20_000 });

        int[][] answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            var pending = new ValueTask<int>[5_000];
            for (int i = 0; i < pending.Length; i++)
            {
                pending[i] = node.Request(probe, new Ping(i), TimeSpan.FromSeconds(10 + t)); // a queue per thread's timeout and shared ones
            }

            var results = new int[pending.Length];
            for (int i = 0; i < pending.Length; i++)
            {
                results[i] = await pending[i];
            }

            return results;
        }))).Within($"round {round}: 20,000 concurrent requests are answered");

        Assert.All(answers, a => Assert.Equal(Enumerable.Range(0, 5_000), a));
        Assert.Equal(0, node.Statistics.PendingRequests);
    }
}
