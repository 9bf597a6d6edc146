using Tether.Nats;

namespace Tether.Sessions.Tests;

/// <summary>
/// Rights at the mailbox across three nodes with the real verifier: a protected request made from a handler on one node
/// carries its caller's session to a third node, whose mailbox verifies it (one round trip to the session manager on
/// the first node, then from its cache) before the handler runs.
/// </summary>
public sealed class NatsProtectedChainTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public sealed record PlaceVia(Address Desk, int Quantity) : IRequest<string>;

    public sealed record Place(int Quantity) : IRequest<string>;

    /// <summary>An open channel that asks a protected one on another node, from its handler.</summary>
    public sealed class Front : Target, ITarget<Front>
    {
        public static void Wire(Channels<Front> channels) => channels
            .RequestAsync<PlaceVia, string>(static async (_, m, ctx) => "front > " + await ctx.Request(m.Desk, new Place(m.Quantity)));
    }

    /// <summary>A channel that requires orders.place.</summary>
    public sealed class Desk : Target, ITarget<Desk>
    {
        public static void Wire(Channels<Desk> channels) => channels
            .Request<Place, string>(static (_, m, ctx) => $"{ctx.Session!.UserName} placed {m.Quantity} on {ctx.Self.Node}")
            .Requires("orders.place");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ProtectedRequestFromAHandler_CarriesTheCallersSessionToAThirdNode_WhichVerifiesIt(int round)
    {
        using NatsServer nats = await NatsServer.StartAsync(jetStream: true);
        SessionKeys keys = SessionKeys.Generate();
        async Task<(Node Node, BrokerProxy Proxy, SessionVerifier Verifier)> Join(string name)
        {
            var verifier = new SessionVerifier(keys.PublicOnly());
            Node node = Node.Create(new NodeOptions { Name = name, Sessions = verifier });
            BrokerProxy proxy = await BrokerProxy.AttachAsync(node, new BrokerOptions
            {
                Url = nats.Url,
                Cluster = $"chain{round}",
                Contracts = SessionContracts.Register(node.Contracts).Register<PlaceVia>("chain.place-via").Register<Place>("chain.place"),
                DurableTopics = new HashSet<string> { SessionManager.DefaultRevocationTopic },
            });
            verifier.Attach(node);
            return (node, proxy, verifier);
        }

        (Node a, BrokerProxy aProxy, _) = await Join("manager");
        (Node b, BrokerProxy bProxy, _) = await Join("front");
        (Node c, BrokerProxy cProxy, SessionVerifier cVerifier) = await Join("desk");
        try
        {
            await using SessionManager manager = await SessionManager.StartAsync(a, new SessionManagerOptions { Keys = keys, SqlitePath = _dir.File($"users{round}.db"), WorkFactor = 4 });
            await manager.Users.CreateUserAsync("ada", "pw", ["orders.place"], workFactor: 4);
            await manager.Users.CreateUserAsync("bob", "pw", ["orders.read"], workFactor: 4);
            string ada = (await a.Request("sessions", new Login("ada", "pw"), TimeSpan.FromSeconds(30))).Token;
            string bob = (await a.Request("sessions", new Login("bob", "pw"), TimeSpan.FromSeconds(30))).Token;
            Address front = new("front", b.Spawn(() => new Front()).Id);
            Address desk = new("desk", c.Spawn(() => new Desk()).Id);

            // From outside, on the manager's node, through the front node's open handler, to the desk's protected channel.
            Assert.Equal("front > ada placed 3 on desk", await a.Request(front, new PlaceVia(desk, 3), TimeSpan.FromSeconds(30), session: ada));
            Assert.True(cVerifier.TryVerifyLocal(ada, "orders.place", out SessionVerdict cached) && cached.IsAllowed, "the third node verified it once and keeps it");
            Assert.Equal("front > ada placed 4 on desk", await a.Request(front, new PlaceVia(desk, 4), TimeSpan.FromSeconds(30), session: ada));

            TetherException forbidden = await Assert.ThrowsAsync<TetherException>(async () => await a.Request(front, new PlaceVia(desk, 5), TimeSpan.FromSeconds(30), session: bob));
            Assert.Equal(ErrorCodes.Forbidden, forbidden.Code);
            TetherException anonymous = await Assert.ThrowsAsync<TetherException>(async () => await a.Request(front, new PlaceVia(desk, 6), TimeSpan.FromSeconds(30)));
            Assert.Equal(ErrorCodes.Unauthenticated, anonymous.Code);
        }
        finally
        {
            foreach ((Node node, BrokerProxy proxy) in new[] { (c, cProxy), (b, bProxy), (a, aProxy) })
            {
                await proxy.DisposeAsync();
                await node.DisposeAsync();
            }
        }
    }
}
