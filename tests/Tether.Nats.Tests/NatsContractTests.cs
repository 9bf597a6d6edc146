namespace Tether.Nats.Tests;

/// <summary>The multi-node contract over a real nats-server: the same suite as on the in-memory network.</summary>
public sealed class NatsContractTests : MultiNodeContractTests
{
    protected override async Task<IMultiNode> StartAsync() => new NatsNodes(await Cluster.StartAsync());

    /// <summary>Nodes with broker proxies on one nats-server; the suite's types registered as contracts.</summary>
    private sealed class NatsNodes(Cluster cluster) : IMultiNode
    {
        private readonly Dictionary<Node, BrokerProxy> _proxies = [];

        public async Task<Node> AddNodeAsync(string name)
        {
            var contracts = new ContractRegistry();
            foreach ((Type type, string contract) in Contracts)
            {
                contracts.Register(type, contract);
            }

            (Node node, BrokerProxy proxy) = await cluster.AddNodeAsync(name, contracts: contracts);
            _proxies[node] = proxy;
            return node;
        }

        public Task ServingAsync(Node node) => _proxies[node].WhenServingAsync();

        public async Task LoseAsync(Node node)
        {
            await cluster.MeshedAsync(); // a peer never heard of cannot be missed
            await _proxies[node].VanishAsync();
        }

        public ValueTask DisposeAsync() => cluster.DisposeAsync();
    }
}
