extern alias LegacyNats;

using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Legacy = LegacyNats::NATS.Client;

namespace Tether.Nats.Internal;

/// <summary>
/// The heartbeats' own small NATS connection, whose I/O never waits for the thread pool.
/// </summary>
/// <remarks>
/// <para>
/// Why a second connection: NATS.Net (the node's main connection) reads and writes its socket in async loops on the
/// thread pool. CPU-bound handlers that keep every pool thread busy would delay this node's heartbeats (and its reading
/// of its peers' heartbeats) past the failure timeout, and a live node would be declared lost: a false alarm. The legacy
/// NATS client (NATS.Client 1.x, kept by the NATS maintainers) reads its socket on a dedicated thread and flushes on
/// another; a synchronous subscription queues what it reads for our own thread (see <see cref="Heartbeats"/>), which
/// sends, receives and judges heartbeats. Nothing on that path queues work to the thread pool.
/// </para>
/// <para>
/// It carries only <c>tether.{cluster}.hb</c>, with the node's credentials and TLS settings, under the name
/// <c>tether-{node}-hb</c>. A goodbye still goes through the main connection, behind the answers it must not overtake.
/// </para>
/// </remarks>
internal sealed class HeartbeatLink : IDisposable
{
    private readonly Legacy.IConnection _connection;
    private readonly Legacy.ISyncSubscription _subscription;

    private HeartbeatLink(Legacy.IConnection connection, Legacy.ISyncSubscription subscription)
    {
        _connection = connection;
        _subscription = subscription;
    }

    /// <summary>Connects (blocking: call it off the hot path) and subscribes to <paramref name="subject"/>.</summary>
    /// <exception cref="TetherException">Code <see cref="ErrorCodes.NodeUnreachable"/>: the server could not be reached or refused the credentials.</exception>
    public static HeartbeatLink Connect(string node, BrokerOptions options, string subject)
    {
        Legacy.Options opts = Legacy.ConnectionFactory.GetDefaultOptions();
        opts.Servers = options.Url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        opts.Name = $"tether-{node}-hb";
        opts.NoEcho = true; // our own heartbeats need not come back
        opts.AllowReconnect = true;
        opts.MaxReconnect = Legacy.Options.ReconnectForever;
        opts.ReconnectWait = 250;

        // The legacy client's default handlers write every connection event to the console; the main connection logs
        // the link's state already (ConnectionWatch), so these stay quiet.
        opts.DisconnectedEventHandler = static (_, _) => { };
        opts.ReconnectedEventHandler = static (_, _) => { };
        opts.ClosedEventHandler = static (_, _) => { };
        opts.ServerDiscoveredEventHandler = static (_, _) => { };
        opts.LameDuckModeEventHandler = static (_, _) => { };
        opts.AsyncErrorEventHandler = static (_, _) => { };
        opts.Timeout = 10_000;
        opts.User = options.User;
        opts.Password = options.Password;
        opts.Token = options.Token;
        if (options.CredsFile is { } creds)
        {
            opts.SetUserCredentials(creds);
        }

        if (options.NKeyFile is { } nkeyFile)
        {
            // The seed never leaves this method: only the public key and a signature of the server's nonce are sent.
            string publicKey = Legacy.Nkeys.PublicKeyFromSeed(ReadSeed(nkeyFile));
            opts.SetNkey(publicKey, (_, args) =>
            {
                using Legacy.NkeyPair signer = Legacy.Nkeys.FromSeed(ReadSeed(nkeyFile));
                args.SignedNonce = signer.Sign(args.ServerNonce);
            });
        }

        if (options.Tls)
        {
            opts.Secure = true;
            if (options.TlsCaFile is { } caFile)
            {
                X509Certificate2Collection authority = [];
                authority.ImportFromPemFile(caFile);
                opts.TLSRemoteCertificationValidationCallback = (_, certificate, _, errors) => TrustedBy(authority, certificate, errors);
            }
        }

        Legacy.IConnection connection;
        try
        {
            connection = new Legacy.ConnectionFactory().CreateConnection(opts);
        }
        catch (Legacy.NATSException ex)
        {
            throw new TetherException(ErrorCodes.NodeUnreachable, $"Node {node} could not open its heartbeat connection to NATS at {options.Url}: {ex.Message}{(ex.InnerException is { } inner ? ": " + inner.Message : "")}", ex);
        }

        try
        {
            Legacy.ISyncSubscription subscription = connection.SubscribeSync(subject);
            connection.Flush(10_000); // the subscription is in place before the first heartbeat is judged
            return new HeartbeatLink(connection, subscription);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>True while the connection is open (it reconnects by itself when not).</summary>
    public bool IsConnected => _connection.State == Legacy.ConnState.CONNECTED;

    /// <summary>Queues a message for the connection's flusher thread (never blocks on the network); false when the connection is closed.</summary>
    public bool TryPublish(string subject, byte[] data)
    {
        try
        {
            _connection.Publish(subject, data);
            return true;
        }
        catch (Exception ex) when (ex is Legacy.NATSException or ObjectDisposedException)
        {
            return false; // closed: the proxy stops, or a reconnect buffer overflowed; the next beat tries again
        }
    }

    /// <summary>The next heartbeat received, or null when none arrived within <paramref name="timeoutMilliseconds"/> or the connection is closed.</summary>
    public Incoming? Next(int timeoutMilliseconds)
    {
        try
        {
            Legacy.Msg msg = _subscription.NextMessage(Math.Max(1, timeoutMilliseconds));
            return new Incoming(msg.Subject, msg.Reply, msg.Data ?? []);
        }
        catch (Legacy.NATSTimeoutException)
        {
            return null;
        }
        catch (Exception ex) when (ex is Legacy.NATSException or ObjectDisposedException)
        {
            // Closed (the proxy stops) or a slow consumer: the caller's loop decides whether to go on.
            Thread.Sleep(Math.Max(1, Math.Min(timeoutMilliseconds, 50)));
            return null;
        }
    }

    /// <summary>Sends what is queued and waits for the server's answer (bounded): before a goodbye, the last heartbeat is out.</summary>
    public void Flush(int timeoutMilliseconds)
    {
        try
        {
            _connection.Flush(timeoutMilliseconds);
        }
        catch (Exception ex) when (ex is Legacy.NATSException or ObjectDisposedException)
        {
            // Peers find out by the goodbye, or by silence.
        }
    }

    public void Dispose()
    {
        try
        {
            _subscription.Dispose();
        }
        catch (Exception ex) when (ex is Legacy.NATSException or ObjectDisposedException)
        {
        }

        _connection.Dispose();
    }

    /// <summary>The seed from an nkey seed file: the line that starts with "SU" (a plain seed file, or a creds-style file).</summary>
    private static string ReadSeed(string path)
        => File.ReadLines(path).Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("SU", StringComparison.Ordinal))
            ?? throw new TetherException(ErrorCodes.BadRequest, $"The nkey seed file \"{path}\" (BrokerOptions.NKeyFile) holds no user seed (a line starting with SU).");

    /// <summary>The server's certificate chains to the CA of <see cref="BrokerOptions.TlsCaFile"/> (and names the host it was reached at).</summary>
    private static bool TrustedBy(X509Certificate2Collection authority, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}
