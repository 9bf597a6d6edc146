using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using NATS.Client.Core;

namespace Tether.Nats.Tests;

public sealed class ServiceTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    public sealed record Work : IRequest<string>;

    public sealed record SetDelay(int Milliseconds);

    /// <summary>A service instance that answers with its node's name after a delay it can be told.</summary>
    public sealed class Worker(ConcurrentDictionary<string, int> handled) : Target, ITarget<Worker>
    {
        private readonly ConcurrentDictionary<string, int> _handled = handled;
        private int _delay;

        public static void Wire(Channels<Worker> channels) => channels
            .RequestAsync<Work, string>(static async (self, _, ctx) =>
            {
                self._handled.AddOrUpdate(ctx.Self.Node, 1, static (_, n) => n + 1);
                if (self._delay > 0)
                {
                    await Task.Delay(self._delay);
                }

                return ctx.Self.Node;
            })
            .On<SetDelay>(static (self, m, _) => self._delay = m.Milliseconds);

    }

    private static ContractRegistry WithWork(ContractRegistry contracts) => contracts.Register<Work>("test.work").Register<SetDelay>("test.set-delay");

    /// <summary>Sends requests from <paramref name="loops"/> concurrent loops for <paramref name="window"/>; returns how many each node answered.</summary>
    private static async Task<Dictionary<string, int>> LoadAsync(Node from, TimeSpan window, int loops = 6)
    {
        var answered = new ConcurrentDictionary<string, int>();
        long start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, loops).Select(async _ =>
        {
            while (Stopwatch.GetElapsedTime(start) < window)
            {
                string node = await from.Request("work", new Work(), TimeSpan.FromSeconds(5));
                answered.AddOrUpdate(node, 1, static (_, n) => n + 1);
            }
        }));
        return new Dictionary<string, int>(answered);
    }

    private static double Share(Dictionary<string, int> counts, string node)
        => counts.GetValueOrDefault(node) / (double)Math.Max(1, counts.Values.Sum());

    [Fact]
    public async Task Router_OneInstanceTurnsSlow_MovesTrafficAwayThenFindsItAgain()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        var handled = new ConcurrentDictionary<string, int>();
        (Node caller, BrokerProxy callerProxy) = await cluster.AddNodeAsync("alpha", contracts: WithWork(Cluster.Contracts()));
        var workers = new Dictionary<string, Address>();
        foreach (string name in new[] { "beta", "gamma", "delta" })
        {
            (Node node, _) = await cluster.AddNodeAsync(name, contracts: WithWork(Cluster.Contracts()));
            Address worker = node.Spawn(() => new Worker(handled));
            node.RegisterService("work", worker);
            workers[name] = worker;
        }

        await cluster.MeshedAsync();
        long known = Stopwatch.GetTimestamp();
        while (callerProxy.Latencies("work").Count < 3)
        {
            Assert.True(Stopwatch.GetElapsedTime(known) < s_wait, "the caller did not learn all three instances from heartbeats");
            await Task.Delay(20); // polling a condition with a deadline
        }

        // While all are fast, each gets a fair part of the traffic: within a few 1-s windows, since a sample taken during
        // a pause of this (loaded, 2-core) machine can make one look slow for a moment.
        long warming = Stopwatch.GetTimestamp();
        while (true)
        {
            Dictionary<string, int> warm = await LoadAsync(caller, TimeSpan.FromSeconds(1));
            string[] starved = new[] { "beta", "gamma", "delta" }.Where(n => Share(warm, n) <= 0.1).ToArray();
            if (starved.Length == 0)
            {
                break;
            }

            Assert.True(
                Stopwatch.GetElapsedTime(warming) < TimeSpan.FromSeconds(10),
                $"while all were fast, {string.Join(", ", starved.Select(n => $"{n} got {Share(warm, n):P0}"))} of the traffic in every 1-s window for 10 s");
        }

        caller.Send(new Address("beta", workers["beta"].Id), new SetDelay(40));
        await LoadAsync(caller, TimeSpan.FromSeconds(2)); // the router has 2 s to notice (the test's budget: README states no time for it)
        Dictionary<string, int> slow = await LoadAsync(caller, TimeSpan.FromSeconds(1));
        Assert.True(Share(slow, "beta") <= 0.2, $"the slow instance still got {Share(slow, "beta"):P0} of the traffic 2 s after it turned slow");

        caller.Send(new Address("beta", workers["beta"].Id), new SetDelay(0));
        long recovering = Stopwatch.GetTimestamp();
        while (true)
        {
            Dictionary<string, int> window = await LoadAsync(caller, TimeSpan.FromSeconds(1));
            if (Share(window, "beta") >= 0.15)
            {
                break;
            }

            Assert.True(Stopwatch.GetElapsedTime(recovering) < TimeSpan.FromSeconds(10), $"the recovered instance was not found again within 10 s (share {Share(window, "beta"):P0})");
        }
    }

    [Fact]
    public async Task ServiceRequest_NoInstanceKnownYet_GoesThroughTheQueueGroup()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        var handled = new ConcurrentDictionary<string, int>();
        var quiet = new BrokerOptions { HeartbeatInterval = TimeSpan.FromSeconds(20), FailureTimeout = TimeSpan.FromSeconds(60) };
        (Node beta, BrokerProxy betaProxy) = await cluster.AddNodeAsync("beta", quiet, WithWork(Cluster.Contracts()));
        beta.RegisterService("work", beta.Spawn(() => new Worker(handled)));

        // A registration is announced at once and once more 20 ms later; alpha must subscribe after both went out.
        await Eventually.Until(() => !betaProxy.Services.AnnouncePending, "beta's announcements of its new service to go out", s_wait);
        (Node alpha, BrokerProxy alphaProxy) = await cluster.AddNodeAsync("alpha", quiet, WithWork(Cluster.Contracts()));
        Assert.Empty(alphaProxy.Latencies("work"));

        Assert.Equal("beta", await alpha.Request("work", new Work()).AsTask().WaitAsync(s_wait));
    }

    [Fact]
    public async Task ServiceRequest_NobodyServesIt_FailsFastWithNoSuchService()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node alpha, _) = await cluster.AddNodeAsync("alpha", contracts: WithWork(Cluster.Contracts()));
        long start = Stopwatch.GetTimestamp();
        TetherException error = await Assert.ThrowsAsync<TetherException>(() => alpha.Request("nobody", new Work(), TimeSpan.FromSeconds(20)).AsTask().WaitAsync(s_wait));
        Assert.Equal(ErrorCodes.NoSuchService, error.Code);
        // Claim (no-responders: fails at once): well below the request's own 20 s deadline, which is what would end it
        // otherwise; 5 s is margin for a loaded machine.
        Assert.True(Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(5), "no-responders must fail the request long before its 20 s deadline");
    }

    [Fact]
    public async Task NatsServicesApi_SeesTetherServicesAndFactories()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node beta, _) = await cluster.AddNodeAsync("beta", contracts: WithWork(Cluster.Contracts()));
        beta.RegisterService("work", beta.Spawn(() => new Worker(new ConcurrentDictionary<string, int>())));
        beta.RegisterFactory("maker", _ => new Worker(new ConcurrentDictionary<string, int>()));

        await using var raw = new NatsConnection(NatsOpts.Default with { Url = cluster.Server.Url });
        await raw.ConnectAsync();
        foreach (string service in new[] { "work", "maker" })
        {
            long start = Stopwatch.GetTimestamp();
            string? info = null;
            while (info is null)
            {
                try
                {
                    NatsMsg<byte[]> reply = await raw.RequestAsync<byte[], byte[]>($"$SRV.INFO.{service}", [], replyOpts: new NatsSubOpts { Timeout = TimeSpan.FromSeconds(2) });
                    info = reply.Data is null ? null : Encoding.UTF8.GetString(reply.Data);
                }
                catch (NatsNoRespondersException) when (Stopwatch.GetElapsedTime(start) < s_wait)
                {
                    await Task.Delay(20); // the service registers asynchronously: poll with a deadline
                }
            }

            Assert.Contains($"\"name\":\"{service}\"", info, StringComparison.Ordinal);
            Assert.Contains("tether.default.svc." + service, info, StringComparison.Ordinal);
            Assert.Contains("\"tether.node\":\"beta\"", info, StringComparison.Ordinal);
        }
    }
}
