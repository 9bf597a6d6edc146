namespace Tether.Nats.Tests;

/// <summary>
/// An address never reaches the wrong target: a node process killed with kill -9 and started again under the same name
/// answers a request sent to an address of the old process with no-such-target, never from a new target.
/// </summary>
[Collection(Exclusive.Name)]
public sealed class IncarnationTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task NodeProcessKilledAndRestartedUnderTheSameName_AnOldAddress_GetsNoSuchTarget_NeverANewTarget(int round)
    {
        _ = round;
        await using Cluster cluster = await Cluster.StartAsync();
        (Node beta, BrokerProxy betaProxy) = await cluster.AddNodeAsync("beta", contracts: OwnerProcessLossTests.Register(Cluster.Contracts()));

        Address old;
        using (NodeProcess first = await NodeProcess.StartAsync("phoenix-a", cluster.Server.Url))
        {
            await Eventually.Until(() => betaProxy.Peers.Contains("phoenix-a"), "beta to hear the first process", s_wait);
            old = await beta.Request("owner-phoenix-a", new OwnerProcessLossTests.MakeTally("counter-phoenix-a")).AsTask().WaitAsync(s_wait);
            Assert.Equal("phoenix-a", old.Node);
            Assert.StartsWith("owned by phoenix-a/", await beta.Request(old, new OwnerProcessLossTests.Read()).AsTask().WaitAsync(s_wait), StringComparison.Ordinal);
            first.Kill();
        }

        await Eventually.Until(() => betaProxy.Statistics.PeersLost >= 1, "beta to notice the first process is gone", s_wait);
        using NodeProcess second = await NodeProcess.StartAsync("phoenix-a", cluster.Server.Url);
        await Eventually.Until(() => betaProxy.Peers.Contains("phoenix-a"), "beta to hear the second process", s_wait);

        // The same steps as before: with ids that start again at 1 the new instance would get the old one's address.
        Address fresh = await beta.Request("owner-phoenix-a", new OwnerProcessLossTests.MakeTally("counter-phoenix-a")).AsTask().WaitAsync(s_wait);
        Assert.NotEqual(old, fresh);
        Assert.StartsWith("owned by phoenix-a/", await beta.Request(fresh, new OwnerProcessLossTests.Read()).AsTask().WaitAsync(s_wait), StringComparison.Ordinal);

        TetherException error = await Assert.ThrowsAsync<TetherException>(() => beta.Request(old, new OwnerProcessLossTests.Read()).AsTask().WaitAsync(s_wait));
        Assert.Equal(ErrorCodes.NoSuchTarget, error.Code);
    }
}
