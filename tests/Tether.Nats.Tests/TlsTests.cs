using System.Diagnostics;

namespace Tether.Nats.Tests;

/// <summary>
/// BrokerOptions.Tls and TlsCaFile against a real nats-server that accepts TLS clients only, with a CA and a server
/// certificate for 127.0.0.1 made at test time.
/// </summary>
public sealed class TlsTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    /// <summary>AttachAsync gives up after 10 s on its own; a refused handshake must be reported well before that.</summary>
    private static readonly TimeSpan s_refusedWithin = TimeSpan.FromSeconds(5);

    private static Task<NatsServer> StartTlsServerAsync(TestCertificates certs)
        => NatsServer.StartWithConfigAsync(_ => $$"""
            tls {
              cert_file: "{{certs.ServerCertFile}}"
              key_file: "{{certs.ServerKeyFile}}"
              timeout: 2
            }

            """);

    [Fact]
    public async Task Attach_TlsWithTheServersCa_NodesMeetAndARequestIsAnswered()
    {
        using TestCertificates certs = TestCertificates.Create();
        await using var cluster = new Cluster(await StartTlsServerAsync(certs));
        var tls = new BrokerOptions { Tls = true, TlsCaFile = certs.CaFile };
        (Node a, BrokerProxy aProxy) = await cluster.AddNodeAsync("alpha", tls);
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta", tls);
        Assert.True(aProxy.IsConnected);
        Assert.True(bProxy.IsConnected);
        Address echo = b.Spawn(() => new Echo());

        string answer = await a.Request(new Address("beta", echo.Id), new Ask("over tls")).AsTask().WaitAsync(s_wait);

        Assert.Equal("echo over tls from beta", answer);
        await cluster.MeshedAsync(); // heartbeats cross too
    }

    [Fact]
    public async Task Attach_TlsWithoutTrustingTheServersCa_FailsQuicklyNamingTheCertificate()
    {
        using TestCertificates certs = TestCertificates.Create();
        using NatsServer server = await StartTlsServerAsync(certs);

        // The system trust store only: the test CA is not in it.
        (TetherException noCa, TimeSpan noCaTook) = await RefusedAsync(server, "no-ca", new BrokerOptions { Tls = true });
        // A CA file, but not the one that signed the server certificate (same subject name, different key): NATS.Net checks
        // the chain against that file in its own validation callback, which refuses it.
        (TetherException otherCa, TimeSpan otherCaTook) = await RefusedAsync(server, "other-ca", new BrokerOptions { Tls = true, TlsCaFile = certs.OtherCaFile });

        foreach ((TetherException error, TimeSpan took) in new[] { (noCa, noCaTook), (otherCa, otherCaTook) })
        {
            Assert.Equal(ErrorCodes.NodeUnreachable, error.Code);
            Assert.Contains("could not connect to NATS at " + server.Url, error.Message, StringComparison.Ordinal);
            Assert.Contains("TLS authentication failed", error.Message, StringComparison.Ordinal);
            Assert.True(error.Message.Contains("remote certificate", StringComparison.Ordinal), error.Message);
            Assert.True(took < s_refusedWithin, $"the refusal took {took.TotalSeconds:0.0} s: {error.Message}");
        }

        // The server still serves clients that trust its CA.
        await using Node good = Node.Create(new NodeOptions { Name = "good" });
        await using BrokerProxy joined = await BrokerProxy.AttachAsync(good, new BrokerOptions { Url = server.Url, Tls = true, TlsCaFile = certs.CaFile });
        Assert.True(joined.IsConnected);
    }

    /// <summary>
    /// With Tls = false NATS.Net still upgrades when the server's INFO says TLS is required (its TlsMode.Auto; BrokerProxy
    /// passes no CA then), so the plain node does not hang on a silent server: it fails the handshake on the certificate,
    /// which the system trust store does not know.
    /// </summary>
    [Fact]
    public async Task Attach_TlsOffAgainstATlsOnlyServer_UpgradesAndFailsQuicklyNamingTheCertificate()
    {
        using TestCertificates certs = TestCertificates.Create();
        using NatsServer server = await StartTlsServerAsync(certs);

        (TetherException error, TimeSpan took) = await RefusedAsync(server, "plain", new BrokerOptions { Tls = false });

        Assert.Equal(ErrorCodes.NodeUnreachable, error.Code);
        Assert.Contains("could not connect to NATS at " + server.Url, error.Message, StringComparison.Ordinal);
        Assert.Contains("TLS authentication failed", error.Message, StringComparison.Ordinal);
        Assert.Contains("remote certificate is invalid", error.Message, StringComparison.Ordinal);
        Assert.True(took < s_refusedWithin, $"the refusal took {took.TotalSeconds:0.0} s: {error.Message}");
    }

    private static async Task<(TetherException Error, TimeSpan Took)> RefusedAsync(NatsServer server, string name, BrokerOptions options)
    {
        await using Node node = Node.Create(new NodeOptions { Name = name });
        long start = Stopwatch.GetTimestamp();
        TetherException error = await Assert.ThrowsAsync<TetherException>(
            () => BrokerProxy.AttachAsync(node, options with { Url = server.Url }).WaitAsync(s_wait));
        TimeSpan took = Stopwatch.GetElapsedTime(start);
        Assert.Null(node.Remote);
        return (error, took);
    }
}
