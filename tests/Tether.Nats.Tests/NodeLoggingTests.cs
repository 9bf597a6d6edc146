namespace Tether.Nats.Tests;

/// <summary>`tether node` logs at Information unless configured otherwise, for its own categories and the NATS client's.</summary>
public sealed class NodeLoggingTests
{
    // A hang guard only, never a timed claim.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TetherNode_LogsAtInformationByDefault_AndAtTheConfiguredLevelWhenAsked()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        using NodeProcess quiet = await NodeProcess.StartAsync("quiet", cluster.Server.Url);
        using NodeProcess verbose = await NodeProcess.StartAsync("verbose", cluster.Server.Url, new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Debug" });
        (Node alpha, BrokerProxy proxy) = await cluster.AddNodeAsync("alpha", contracts: SaturationTests.Register(Cluster.Contracts()));
        await Eventually.Until(() => proxy.Peers.Contains("quiet") && proxy.Peers.Contains("verbose"), "alpha to hear both node processes", s_wait);

        // On each, a target that ends at once: a target's end is logged at Debug.
        Assert.Equal(1, await alpha.Request("burn-verbose", new SaturationTests.Burn(1, 0)).AsTask().WaitAsync(s_wait));
        Assert.Equal(1, await alpha.Request("burn-quiet", new SaturationTests.Burn(1, 0)).AsTask().WaitAsync(s_wait));
        await Eventually.Until(() => verbose.Output.Contains("dbug: Tether.Node", StringComparison.Ordinal), "the node configured for Debug to log the target's end", s_wait);
        Assert.Equal("alive quiet", await alpha.Request("burn-quiet", new SaturationTests.Alive()).AsTask().WaitAsync(s_wait));
        Assert.DoesNotContain("dbug:", quiet.Output, StringComparison.Ordinal);
    }
}
