using Tether.Testing;
using Tether.Transport;

namespace Tether.Tests;

/// <summary>The multi-node contract on the in-memory network: the same suite as over NATS, with no broker.</summary>
public sealed class InMemoryNetworkTests : MultiNodeContractTests
{
    protected override Task<IMultiNode> StartAsync() => Task.FromResult<IMultiNode>(new InMemoryNodes());

    [Fact]
    public async Task Join_ANodeWithATransportOrATakenName_IsRefusedSayingWhy()
    {
        var network = new InMemoryNetwork();
        await using Node a = Node.Create(new NodeOptions { Name = "alpha" });
        await using Node again = Node.Create(new NodeOptions { Name = "alpha" });
        network.Join(a);

        string taken = Assert.Throws<InvalidOperationException>(() => network.Join(again)).Message;
        string twice = Assert.Throws<InvalidOperationException>(() => new InMemoryNetwork().Join(a)).Message;

        Assert.Contains("already in the network", taken, StringComparison.Ordinal);
        Assert.Contains("already has a remote transport", twice, StringComparison.Ordinal);
        Assert.Equal(["alpha"], network.Nodes);
    }

    [Fact]
    public async Task Leave_TheLeavingNodeReachesNobody_AndNobodyReachesIt()
    {
        var network = new InMemoryNetwork();
        await using Node a = Node.Create(new NodeOptions { Name = "alpha" });
        await using Node b = Node.Create(new NodeOptions { Name = "beta" });
        network.Join(a);
        network.Join(b);
        Address onA = a.Spawn(() => new Echo());
        Address onB = b.Spawn(() => new Echo());
        b.RegisterService("echo", onB);

        Assert.True(network.Leave(a));
        Assert.False(network.Leave(a));

        TetherException from = await Assert.ThrowsAsync<TetherException>(() => a.Request(onB, new Ask("x")).AsTask().WaitAsync(Wait));
        TetherException to = await Assert.ThrowsAsync<TetherException>(() => b.Request(onA, new Ask("x")).AsTask().WaitAsync(Wait));
        TetherException service = await Assert.ThrowsAsync<TetherException>(() => a.Request("echo", new Ask("x")).AsTask().WaitAsync(Wait));
        Assert.Equal((ErrorCodes.NodeUnreachable, ErrorCodes.NodeUnreachable, ErrorCodes.NodeUnreachable), (from.Code, to.Code, service.Code));
        Assert.Contains("node alpha has left the network", from.Message, StringComparison.Ordinal);
        Assert.Contains("node alpha is unreachable", to.Message, StringComparison.Ordinal);
        Assert.Equal("echo local from alpha", await a.Request(onA, new Ask("local")).AsTask().WaitAsync(Wait)); // it keeps running
    }

    [Fact]
    public async Task Request_ToANodeNeverInTheNetwork_FailsWithNodeUnreachable()
    {
        await using var nodes = new InMemoryNodes();
        Node a = await nodes.AddNodeAsync("alpha");

        TetherException error = await Assert.ThrowsAsync<TetherException>(() => a.Request(new Address("nowhere", 1), new Ask("x")).AsTask().WaitAsync(Wait));

        Assert.Equal(ErrorCodes.NodeUnreachable, error.Code);
        Assert.Contains("node nowhere is unreachable", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Nodes joined by one <see cref="InMemoryNetwork"/>.</summary>
    private sealed class InMemoryNodes : IMultiNode
    {
        private readonly InMemoryNetwork _network = new();
        private readonly List<Node> _nodes = [];

        public Task<Node> AddNodeAsync(string name)
        {
            Node node = Node.Create(new NodeOptions { Name = name });
            _nodes.Add(node);
            _network.Join(node);
            return Task.FromResult(node);
        }

        public Task ServingAsync(Node node) => Task.CompletedTask; // registrations are seen at once

        public Task LoseAsync(Node node)
        {
            Assert.True(_network.Leave(node));
            return Task.CompletedTask;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (Node node in _nodes)
            {
                await node.DisposeAsync();
            }
        }
    }
}
