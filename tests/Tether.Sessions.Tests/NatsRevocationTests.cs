using Tether.Nats;

namespace Tether.Sessions.Tests;

/// <summary>
/// Sessions across nodes over a real nats-server: verification on a node other than the manager's, and revocation reaching
/// another node within 1 s, and a node that joins later through the durable revocation topic.
/// </summary>
public sealed class NatsRevocationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Logout_ReachesAnotherNodeWithinOneSecond_AndANodeThatJoinsLater(int round)
    {
        using NatsServer nats = await NatsServer.StartAsync(jetStream: true);
        SessionKeys keys = SessionKeys.Generate();
        BrokerOptions Broker() => new()
        {
            Url = nats.Url,
            Cluster = $"sessions{round}",
            Contracts = SessionContracts.Register(new ContractRegistry()),
            DurableTopics = new HashSet<string> { SessionManager.DefaultRevocationTopic },
        };

        var verifierA = new SessionVerifier(keys.PublicOnly());
        await using Node a = Node.Create(new NodeOptions { Name = "manager-node", Sessions = verifierA });
        await using BrokerProxy brokerA = await BrokerProxy.AttachAsync(a, Broker());
        verifierA.Attach(a); // after the broker proxy: the subscription then also gets the durable topic's latest event
        await using SessionManager manager = await SessionManager.StartAsync(a, new SessionManagerOptions { Keys = keys, SqlitePath = _dir.File("users.db"), WorkFactor = 4 });
        await manager.Users.CreateUserAsync("ada", "pw", ["orders.place"], workFactor: 4);

        var verifierB = new SessionVerifier(keys.PublicOnly());
        await using Node b = Node.Create(new NodeOptions { Name = "worker-node", Sessions = verifierB });
        await using BrokerProxy brokerB = await BrokerProxy.AttachAsync(b, Broker());
        verifierB.Attach(b);

        LoginResult login = await b.Request("sessions", new Login("ada", "pw"), TimeSpan.FromSeconds(30));
        Assert.False(verifierB.TryVerifyLocal(login.Token, "orders.place", out _));
        SessionVerdict remote = await verifierB.VerifyAsync(login.Token, "orders.place", CancellationToken.None);
        Assert.True(remote.IsAllowed, remote.ErrorText);
        Assert.True(verifierB.TryVerifyLocal(login.Token, "orders.place", out SessionVerdict cached) && cached.IsAllowed, "verified once, then cached");

        Assert.True(await b.Request("sessions", new Logout(login.Token), TimeSpan.FromSeconds(30)));
        await Eventually.Until(
            () => Task.FromResult(verifierB.TryVerifyLocal(login.Token, "orders.place", out SessionVerdict v) && v.ErrorCode == ErrorCodes.SessionRevoked),
            "the logout to reach the other node's verifier",
            TimeSpan.FromSeconds(1));

        var verifierC = new SessionVerifier(keys.PublicOnly());
        await using Node c = Node.Create(new NodeOptions { Name = "late-node", Sessions = verifierC });
        await using BrokerProxy brokerC = await BrokerProxy.AttachAsync(c, Broker());
        verifierC.Attach(c);

        // Without the durable topic the late node would not know (a validly signed, unknown token: TryVerifyLocal false).
        await Eventually.Until(
            () => Task.FromResult(verifierC.TryVerifyLocal(login.Token, "orders.place", out SessionVerdict v) && v.ErrorCode == ErrorCodes.SessionRevoked),
            "the durable topic to hand the revocations to a node that joined later",
            TimeSpan.FromSeconds(10));
    }
}
