using NATS.NKeys;

namespace Tether.Nats.Tests;

/// <summary>
/// Credentials, nkeys: with the NATS server configured for an nkey user, a node joins with its seed file (both of its
/// connections, the main one and the heartbeats'), the seed is never logged, and a node without a valid key cannot join
/// and says why.
/// </summary>
public sealed class NKeyTests : IDisposable
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);
    private readonly string _dir = Directory.CreateTempSubdirectory("tether-nkeys-").FullName;

    [Fact]
    public async Task Attach_ServerWithNKeys_JoinsWithItsSeedFile_AndIsRefusedWithoutAValidKey()
    {
        KeyPair user = KeyPair.CreatePair(PrefixByte.User);
        KeyPair stranger = KeyPair.CreatePair(PrefixByte.User);
        string seedFile = Write("node.nk", user.GetSeed());
        string strangerFile = Write("stranger.nk", stranger.GetSeed());
        NatsServer server = await NatsServer.StartWithConfigAsync(_ => $"authorization {{ users = [ {{ nkey: {user.GetPublicKey()} }} ] }}\n");
        await using var cluster = new Cluster(server);

        // Two nodes with the seed: they hear each other's heartbeats (the second connection signed in too) and talk.
        var keyed = new BrokerOptions { NKeyFile = seedFile };
        (Node alpha, BrokerProxy alphaProxy) = await cluster.AddNodeAsync("alpha", keyed);
        (Node beta, _) = await cluster.AddNodeAsync("beta", keyed);
        Address echo = beta.Spawn(() => new Echo());
        await Eventually.Until(() => alphaProxy.Peers.Contains("beta"), "alpha to hear beta over the nkey-signed heartbeat connection", s_wait);
        Assert.StartsWith("echo signed", await alpha.Request(echo, new Ask("signed")).AsTask().WaitAsync(s_wait), StringComparison.Ordinal);

        // A stranger's key, or none: refused, and the error says why (the server's authorization violation).
        foreach ((string name, BrokerOptions options) in new[] { ("stranger", new BrokerOptions { NKeyFile = strangerFile }), ("keyless", new BrokerOptions()) })
        {
            await using Node node = Node.Create(new NodeOptions { Name = name });
            TetherException refused = await Assert.ThrowsAsync<TetherException>(() => BrokerProxy.AttachAsync(node, options with { Url = server.Url }).WaitAsync(s_wait));
            Assert.Equal(ErrorCodes.NodeUnreachable, refused.Code);
            Assert.Contains("could not connect to NATS at " + server.Url, refused.Message, StringComparison.Ordinal);
            Assert.Contains("Authorization Violation", refused.Message, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(stranger.GetSeed(), refused.Message, StringComparison.Ordinal);
            Assert.Null(node.Remote);
        }
    }

    [Fact]
    public async Task Attach_SeedFileWithoutASeed_IsRejectedNamingTheFile()
    {
        string notASeed = Write("broken.nk", "this is not a seed");
        await using Node node = Node.Create(new NodeOptions { Name = "broken" });
        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => BrokerProxy.AttachAsync(node, new BrokerOptions { NKeyFile = notASeed }));
        Assert.Contains(notASeed, error.Message, StringComparison.Ordinal);
        Assert.Contains("BrokerOptions.NKeyFile", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TetherNode_WithNKeyFileSetting_Joins_AndNeverLogsTheSeed()
    {
        KeyPair user = KeyPair.CreatePair(PrefixByte.User);
        string seed = user.GetSeed();
        string seedFile = Write("node.nk", seed);
        NatsServer server = await NatsServer.StartWithConfigAsync(_ => $"authorization {{ users = [ {{ nkey: {user.GetPublicKey()} }} ] }}\n");
        await using var cluster = new Cluster(server);
        (_, BrokerProxy betaProxy) = await cluster.AddNodeAsync("beta", new BrokerOptions { NKeyFile = seedFile });

        // Bound like every other setting (Tether:Nats:NKeyFile, --nats-nkey); Debug logging shows what a verbose log would.
        using NodeProcess node = await NodeProcess.StartAsync("keyed-a", server.Url, new Dictionary<string, string> { ["Tether__Nats__NKeyFile"] = seedFile, ["Logging__LogLevel__Default"] = "Debug" });
        await Eventually.Until(() => betaProxy.Peers.Contains("keyed-a"), "beta to hear the node process that joined with its seed", s_wait);
        Assert.DoesNotContain(seed, node.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(seed[..20], node.Output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Join(_dir, name);
        File.WriteAllText(path, text + "\n");
        return path;
    }
}
