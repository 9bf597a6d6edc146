namespace Tether.Nats.Tests;

public sealed class SecurityTests
{
    [Fact]
    public async Task Attach_ServerWithUsers_JoinsWithCredentialsAndIsRefusedWithout()
    {
        using NatsServer server = await NatsServer.StartWithConfigAsync(_ => "authorization { users: [ { user: tether, password: s3cret } ] }\n");
        await using Node good = Node.Create(new NodeOptions { Name = "good" });
        await using Node bad = Node.Create(new NodeOptions { Name = "bad" });

        await using BrokerProxy joined = await BrokerProxy.AttachAsync(good, new BrokerOptions { Url = server.Url, User = "tether", Password = "s3cret" });
        Assert.True(joined.IsConnected);

        TetherException refused = await Assert.ThrowsAsync<TetherException>(() => BrokerProxy.AttachAsync(bad, new BrokerOptions { Url = server.Url }));
        Assert.Equal(ErrorCodes.NodeUnreachable, refused.Code);
        Assert.Contains("could not connect to NATS", refused.Message, StringComparison.Ordinal);
        Assert.Null(bad.Remote);
    }

    [Fact]
    public async Task Attach_BadOptions_AreRejectedNamingTheOption()
    {
        await using Node node = Node.Create(new NodeOptions { Name = "n1" });
        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => BrokerProxy.AttachAsync(node, new BrokerOptions { User = "only-user" }));
        Assert.Contains("Password", error.Message, StringComparison.Ordinal);
        error = await Assert.ThrowsAsync<ArgumentException>(() => BrokerProxy.AttachAsync(node, new BrokerOptions { CredsFile = "/nonexistent/x.creds" }));
        Assert.Contains("/nonexistent/x.creds", error.Message, StringComparison.Ordinal);
        string ca = Path.GetTempFileName();
        try
        {
            error = await Assert.ThrowsAsync<ArgumentException>(() => BrokerProxy.AttachAsync(node, new BrokerOptions { TlsCaFile = ca }));
            Assert.Contains("BrokerOptions.Tls", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(ca);
        }

        await using Node spaced = Node.Create(new NodeOptions { Name = "has.dot" });
        error = await Assert.ThrowsAsync<ArgumentException>(() => BrokerProxy.AttachAsync(spaced, new BrokerOptions()));
        Assert.Contains("NodeOptions.Name", error.Message, StringComparison.Ordinal);
    }
}
