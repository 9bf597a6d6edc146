using System.Collections.Concurrent;
using System.Diagnostics;

namespace Tether.Nats.Tests;

public sealed class TopicTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    private static Task Until(Func<bool> condition, string phase) => Eventually.Until(condition, phase, s_wait);

    [Fact]
    public async Task Publish_ReachesSubscribersOnEveryNodeOnceAndInOrder()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node alpha, _) = await cluster.AddNodeAsync("alpha");
        (Node beta, _) = await cluster.AddNodeAsync("beta");
        var remote = new ConcurrentQueue<Price>();
        var local = new ConcurrentQueue<Price>();
        beta.Spawn(() => new PriceWatcher("prices.eur", remote));
        alpha.Spawn(() => new PriceWatcher("prices.eur", local));
        await cluster.MeshedAsync();

        // The remote subscription is made asynchronously: publish a probe until beta sees one, then the real run.
        await Until(() =>
        {
            alpha.Publish("prices.eur", new Price("probe", 0));
            return !remote.IsEmpty;
        }, "beta's subscription to reach the broker");
        for (int i = 1; i <= 200; i++)
        {
            alpha.Publish("prices.eur", new Price("EURUSD", i));
        }

        int Real(ConcurrentQueue<Price> q) => q.Count(p => p.Symbol == "EURUSD");
        await Until(() => Real(remote) >= 200 && Real(local) >= 200, "200 events on both nodes");
        Assert.Equal(Enumerable.Range(1, 200), remote.Where(p => p.Symbol == "EURUSD").Select(p => p.Cents));
        Assert.Equal(Enumerable.Range(1, 200), local.Where(p => p.Symbol == "EURUSD").Select(p => p.Cents));
    }

    [Fact]
    public async Task DurableTopic_LateSubscriberOnAnotherNode_GetsTheLatestStateThenLiveEvents()
    {
        await using Cluster cluster = await Cluster.StartAsync(jetStream: true);
        var durable = new BrokerOptions { DurableTopics = new HashSet<string> { "prices" } };
        (Node alpha, _) = await cluster.AddNodeAsync("alpha", durable);
        for (int i = 1; i <= 3; i++)
        {
            alpha.Publish("prices", new Price("EURUSD", i));
        }

        (Node beta, _) = await cluster.AddNodeAsync("beta", durable);
        var seen = new ConcurrentQueue<Price>();

        // The publishes are acknowledged asynchronously: subscribe once the stream holds the latest one.
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            var probe = new ConcurrentQueue<Price>();
            Address watcher = beta.Spawn(() => new PriceWatcher("prices", probe));
            // One probe waits at most 1 s (a retry pace, not a claim; the stream acknowledges asynchronously); s_wait bounds the whole.
            await Until(() => !probe.IsEmpty || Stopwatch.GetElapsedTime(start) > TimeSpan.FromSeconds(1), "a probe subscriber to get state");
            beta.End(watcher);
            if (probe.TryPeek(out Price? latest) && latest.Cents == 3)
            {
                break;
            }

            Assert.True(Stopwatch.GetElapsedTime(start) < s_wait, "the durable topic never handed over its latest state");
        }

        beta.Spawn(() => new PriceWatcher("prices", seen));
        await Until(() => !seen.IsEmpty, "the late subscriber to get the current state");
        alpha.Publish("prices", new Price("EURUSD", 4));
        await Until(() => seen.Count >= 2, "the live event after the state");

        Assert.Equal([3, 4], seen.Select(p => p.Cents));
    }
}
