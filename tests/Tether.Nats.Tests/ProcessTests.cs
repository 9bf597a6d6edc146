using System.Diagnostics;

namespace Tether.Nats.Tests;

/// <summary>Nodes in separate OS processes (`tether node`), and nodes behind a leaf-node server.</summary>
[Collection(Exclusive.Name)]
public sealed class ProcessTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task NodeInAnotherProcess_AnswersServiceRequests()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        using NodeProcess beta = await NodeProcess.StartAsync("beta", cluster.Server.Url);
        (Node alpha, _) = await cluster.AddNodeAsync("alpha");

        // alpha knows no instance yet: the request goes through the service's queue group, served since beta said "ready".
        Assert.Equal("echo hi from beta", await alpha.Request("echo", new Ask("hi")).AsTask().WaitAsync(s_wait));
    }

    [Fact]
    public async Task KillMinus9_TenThousandRequestsInFlight_EveryOneEndsWithinDetectionTime()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        using NodeProcess beta = await NodeProcess.StartAsync("beta", cluster.Server.Url);
        (Node alpha, BrokerProxy alphaProxy) = await cluster.AddNodeAsync("alpha");
        await cluster.MeshedAsync();
        long learned = Stopwatch.GetTimestamp();
        while (!alphaProxy.Peers.Contains("beta") || alphaProxy.Latencies("echo").Count == 0)
        {
            Assert.True(Stopwatch.GetElapsedTime(learned) < s_wait, "alpha did not learn beta and its echo service");
            await Task.Delay(20); // polling a condition with a deadline
        }

        Task<string>[] requests = Enumerable.Range(0, 10_000)
            .Select(_ => alpha.Request("echo", new Never(), TimeSpan.FromSeconds(60)).AsTask())
            .ToArray();
        Assert.Equal(10_000, alphaProxy.Statistics.PendingRemoteRequests);

        long killed = Stopwatch.GetTimestamp();
        beta.Kill();
        await Task.WhenAll(requests.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(s_wait);
        TimeSpan took = Stopwatch.GetElapsedTime(killed);

        Assert.All(requests, r => Assert.Equal(ErrorCodes.NodeUnreachable, Assert.IsType<TetherException>(r.Exception!.InnerException).Code));
        // Claim (README, failure detection): FailureTimeout 2 s + one HeartbeatInterval 0.5 s; + 1 s for a loaded machine.
        Assert.True(took < TimeSpan.FromSeconds(3.5), $"requests ended {took.TotalSeconds:0.00} s after kill -9; detection is 2 s plus one heartbeat");
    }

    [Fact]
    public async Task NodeBehindLeafServer_TalksToNodeOnTheHub()
    {
        int leafPort = 0;
        using NatsServer hub = await NatsServer.WithFreshPortsAsync(() =>
        {
            leafPort = NatsServer.FreePort();
            return NatsServer.StartWithConfigAsync(port => $"leafnodes {{ listen: \"127.0.0.1:{leafPort}\" }}\n");
        });
        using NatsServer leaf = await NatsServer.StartWithConfigAsync(port => $"leafnodes {{ remotes: [ {{ url: \"nats-leaf://127.0.0.1:{leafPort}\" }} ] }}\n");
        await using var cluster = new Cluster(await NatsServer.StartAsync());
        (Node alpha, BrokerProxy alphaProxy) = await cluster.AddNodeAsync("alpha", url: leaf.Url);
        (Node beta, _) = await cluster.AddNodeAsync("beta", url: hub.Url);
        beta.RegisterService("echo", beta.Spawn(() => new Echo()));

        long start = Stopwatch.GetTimestamp();
        while (!alphaProxy.Peers.Contains("beta") || alphaProxy.Latencies("echo").Count == 0)
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < s_wait, "the leaf node's client never heard the hub's node and its service (is the leaf connection up?)");
            await Task.Delay(20); // polling a condition with a deadline
        }

        Assert.Equal("echo leaf from beta", await alpha.Request("echo", new Ask("leaf")).AsTask().WaitAsync(s_wait));
        Address direct = new("beta", beta.Spawn(() => new Echo()).Id);
        Assert.Equal("echo direct from beta", await alpha.Request(direct, new Ask("direct")).AsTask().WaitAsync(s_wait));
    }
}
