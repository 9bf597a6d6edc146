using System.Diagnostics;

namespace Tether.Nats.Tests;

/// <summary>
/// Two NATS clusters joined by gateways (a super-cluster, as in deploy/nats/supercluster-*.conf): nodes on either side
/// find each other, call services and addresses, get events, and see each other's loss.
/// </summary>
[Collection(Exclusive.Name)] // it times failure detection (3.5 s): never beside the heavy tests
public sealed class GatewayTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    private static string GatewayConfig(string name, int ownPort, int otherPort, string otherName) => $$"""
        server_name: {{name}}
        gateway {
          name: {{name}}
          listen: "127.0.0.1:{{ownPort}}"
          gateways: [
            { name: {{name}}, urls: [ "nats://127.0.0.1:{{ownPort}}" ] }
            { name: {{otherName}}, urls: [ "nats://127.0.0.1:{{otherPort}}" ] }
          ]
        }

        """;

    private static Task Until(Func<bool> condition, string phase) => Eventually.Until(condition, phase, s_wait);

    [Fact]
    public async Task NodesOnTwoGatewayedClusters_CallServicesAndAddressesAndSeeEachOthersLoss()
    {
        (NatsServer a, NatsServer b) = await NatsServer.WithFreshPortsAsync(async () =>
        {
            int gatewayA = NatsServer.FreePort();
            int gatewayB = NatsServer.FreePort();
            NatsServer first = await NatsServer.StartWithConfigAsync(_ => GatewayConfig("tether-a", gatewayA, gatewayB, "tether-b"));
            try
            {
                return (first, await NatsServer.StartWithConfigAsync(_ => GatewayConfig("tether-b", gatewayB, gatewayA, "tether-a")));
            }
            catch
            {
                first.Dispose();
                throw;
            }
        });
        using NatsServer serverA = a;
        using NatsServer serverB = b;
        await using var cluster = new Cluster(a);
        (Node alpha, BrokerProxy alphaProxy) = await cluster.AddNodeAsync("alpha", url: a.Url);
        (Node beta, BrokerProxy betaProxy) = await cluster.AddNodeAsync("beta", url: b.Url);
        beta.RegisterService("echo", beta.Spawn(() => new Echo()));

        await Until(() => alphaProxy.Peers.Contains("beta") && alphaProxy.Latencies("echo").Count == 1, "alpha, on cluster a, to hear beta's heartbeats and its echo service from cluster b");

        Assert.Equal("echo over the gateway from beta", await alpha.Request("echo", new Ask("over the gateway")).AsTask().WaitAsync(s_wait));
        Address direct = new("beta", beta.Spawn(() => new Echo()).Id);
        Assert.Equal("echo direct from beta", await alpha.Request(direct, new Ask("direct")).AsTask().WaitAsync(s_wait));

        // A request left pending on the other cluster fails when its node is lost, within the detection time.
        Task<string> pending = alpha.Request(direct, new Never(), TimeSpan.FromSeconds(60)).AsTask();
        await Until(() => alphaProxy.Statistics.PendingRemoteRequests == 1, "the never-answered request to be pending");
        long lost = Stopwatch.GetTimestamp();
        await betaProxy.VanishAsync();
        TetherException error = await Assert.ThrowsAsync<TetherException>(() => pending.WaitAsync(s_wait));
        Assert.Equal(ErrorCodes.NodeUnreachable, error.Code);
        // Claim (README, failure detection): FailureTimeout 2 s + one HeartbeatInterval 0.5 s; + 1 s for a loaded machine.
        Assert.True(Stopwatch.GetElapsedTime(lost) < TimeSpan.FromSeconds(3.5), $"the request ended {Stopwatch.GetElapsedTime(lost).TotalSeconds:0.00} s after beta vanished");
    }
}
