using Tether.Adapters;

namespace Tether.Nats.Tests;

[Contract("registry.place")]
public sealed record RegistryPlace(string Item, int Quantity) : IRequest<string>;

/// <summary>A message type registered once, on the node's registry, crosses the wire and meets its adapters.</summary>
public sealed class OneRegistryTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    private sealed class Desk : Target, ITarget<Desk>
    {
        public static void Wire(Channels<Desk> channels)
            => channels.Request<RegistryPlace, string>(static (_, m, ctx) => $"{m.Quantity} x {m.Item} on {ctx.Self.Node}");
    }

    private static Node CreateNode(string name)
    {
        // One registration: the attribute, read once into the node's registry; adapters and the wire both read it.
        ContractRegistry contracts = new ContractRegistry().Register<RegistryPlace>();
        MessageAdapters adapters = MessageAdapters.CreateBuilder(contracts)
            .AddYaml("message: registry.place\nrules:\n  - field: quantity\n    range: { min: 1, max: 10 }\n", "place.yaml")
            .Build();
        return Node.Create(new NodeOptions { Name = name, Contracts = contracts, Adapters = adapters });
    }

    [Fact]
    public async Task RequestAcrossNodes_TypeRegisteredOnceOnTheNode_AnsweredAndChecked()
    {
        using NatsServer server = await NatsServer.StartAsync();
        await using Node alpha = CreateNode("alpha");
        await using Node beta = CreateNode("beta");
        await using BrokerProxy alphaProxy = await BrokerProxy.AttachAsync(alpha, new BrokerOptions { Url = server.Url, Contracts = alpha.Contracts });
        await using BrokerProxy betaProxy = await BrokerProxy.AttachAsync(beta, new BrokerOptions { Url = server.Url, Contracts = beta.Contracts });
        beta.RegisterService("desk", beta.Spawn(() => new Desk()));
        await betaProxy.WhenServingAsync().WaitAsync(s_wait);

        string answer = await alpha.Request("desk", new RegistryPlace("book", 2)).AsTask().WaitAsync(s_wait);
        TetherException refused = await Assert.ThrowsAsync<TetherException>(() => alpha.Request("desk", new RegistryPlace("book", 99)).AsTask().WaitAsync(s_wait));

        Assert.Equal("2 x book on beta", answer);
        Assert.Equal(ErrorCodes.ContractViolation, refused.Code);
        Assert.Contains("quantity", refused.Message, StringComparison.Ordinal);
    }
}
