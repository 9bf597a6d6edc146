using System.Text;
using NATS.Client.Core;

namespace Tether.Nats.Internal;

/// <summary>
/// The broker proxy's connection: the one NATS connection of the node, its subjects, the subscriptions (kept strongly:
/// NATS.Net holds them weakly) and their read loops, and publishing a lone frame.
/// </summary>
internal sealed class NatsLink
{
    private readonly BrokerProxy _proxy;
    private readonly List<INatsSub<byte[]>> _subs = []; // strong references: NATS.Net holds subscriptions weakly
    private readonly List<InlineSub> _inlineSubs = [];
    private readonly List<Task> _loops = [];

    public NatsLink(BrokerProxy proxy, NatsConnection nats, string cluster, string node)
    {
        _proxy = proxy;
        Nats = nats;
        Prefix = $"tether.{cluster}";
        Inbox = $"{Prefix}.node.{node}";
        ReplyPrefix = $"{Prefix}.reply.{node}.";
        ReplyHead = $"{Prefix}.reply.";
    }

    public NatsConnection Nats { get; }

    /// <summary><c>tether.{cluster}</c>: the start of every subject.</summary>
    public string Prefix { get; }

    /// <summary>This node's inbox: <c>tether.{cluster}.node.{node}</c>.</summary>
    public string Inbox { get; }

    /// <summary>This node's reply subjects without the correlation: <c>tether.{cluster}.reply.{node}.</c>.</summary>
    public string ReplyPrefix { get; }

    /// <summary>Every node's reply subjects start so: <c>tether.{cluster}.reply.</c>.</summary>
    public string ReplyHead { get; }

    /// <summary>Cancelled when the proxy stops: read loops and background work end.</summary>
    public CancellationTokenSource Stopping { get; } = new();

    public bool IsConnected => Nats.ConnectionState == NatsConnectionState.Open;

    /// <summary>Connects to NATS with the node's credentials and TLS settings.</summary>
    /// <exception cref="TetherException">Code <see cref="ErrorCodes.NodeUnreachable"/>: the server could not be reached.</exception>
    public static async Task<NatsConnection> ConnectAsync(Node node, BrokerOptions options, CancellationToken cancellation)
    {
        (string? nkey, string? seed) = options.NKeyFile is { } nkeyFile ? NKeyOf(nkeyFile) : (null, null);
        var nats = new NatsConnection(NatsOpts.Default with
        {
            Url = options.Url,
            Name = $"tether-{node.Name}",
            AuthOpts = NatsAuthOpts.Default with
            {
                Username = options.User,
                Password = options.Password,
                Token = options.Token,
                CredsFile = options.CredsFile,
                NKey = nkey, // NATS.Net's own NKeyFile wants the public key in the file too; a seed file holds only the seed
                Seed = seed,
            },
            TlsOpts = options.Tls ? NatsTlsOpts.Default with { Mode = TlsMode.Require, CaFile = options.TlsCaFile } : NatsTlsOpts.Default,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(100),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
            MaxReconnectRetry = -1,
            SubPendingChannelCapacity = 65_536,
            LoggerFactory = node.Options.LoggerFactory,
        });
        try
        {
            await nats.ConnectAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), cancellation).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException)
        {
            await nats.DisposeAsync().ConfigureAwait(false);
            throw new TetherException(ErrorCodes.NodeUnreachable, $"Node {node.Name} could not connect to NATS at {options.Url}: {Causes(ex)}", ex);
        }

        return nats;
    }

    /// <summary>
    /// The public key and the seed of an nkey seed file (checked by <see cref="BrokerOptions"/>: it holds a line starting
    /// with SU). The seed stays in memory for signing the server's challenge; it never goes into a message or a log.
    /// </summary>
    private static (string PublicKey, string Seed) NKeyOf(string file)
    {
        string seed = File.ReadLines(file).Select(l => l.Trim()).First(l => l.StartsWith("SU", StringComparison.Ordinal));
        try
        {
            using NATS.NKeys.KeyPair pair = NATS.NKeys.KeyPair.FromSeed(seed);
            return (pair.GetPublicKey(), seed);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new ArgumentException($"BrokerOptions.NKeyFile (\"{file}\") holds no valid nkey user seed: {ex.GetType().Name}.", ex);
        }
    }

    /// <summary>Keeps a background loop, awaited when the proxy closes.</summary>
    public void AddLoop(Task loop)
    {
        lock (_subs)
        {
            _loops.Add(loop);
        }
    }

    /// <summary>Waits for the read loops to end (they end on <see cref="Stopping"/>; one that failed was already logged).</summary>
    public async Task LoopsEndedAsync()
    {
        Task[] loops;
        lock (_subs)
        {
            loops = [.. _loops];
        }

        await Task.WhenAll(loops.Select(l => l.ContinueWith(static _ => { }, TaskScheduler.Default))).ConfigureAwait(false);
    }

    public async Task<INatsSub<byte[]>> SubscribeAsync(string subject, string? queueGroup, Action<Incoming> handle, CancellationToken cancellation)
    {
        INatsSub<byte[]> sub = await Nats.SubscribeCoreAsync<byte[]>(subject, queueGroup, cancellationToken: cancellation).ConfigureAwait(false);
        lock (_subs)
        {
            _subs.Add(sub);
            _loops.Add(Task.Run(() => ReadLoop(sub, handle)));
        }

        return sub;
    }

    /// <summary>A hot subscription (inbox, replies): handled on the socket reader, see <see cref="InlineSub"/>.</summary>
    public async Task SubscribeInlineAsync(string subject, Action<Incoming> handle, CancellationToken cancellation)
    {
        var sub = new InlineSub(Nats, subject, msg => _proxy.Inbound.Dispatch(msg, handle), Stopping.Token);
        lock (_subs)
        {
            _inlineSubs.Add(sub);
        }

        await Nats.AddSubAsync(sub, cancellation).ConfigureAwait(false);
    }

    private async Task ReadLoop(INatsSub<byte[]> sub, Action<Incoming> handle)
    {
        try
        {
            await foreach (NatsMsg<byte[]> msg in sub.Msgs.ReadAllAsync(Stopping.Token).ConfigureAwait(false))
            {
                _proxy.Inbound.Dispatch(Incoming.From(msg), handle);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Publish(string subject, byte[] frame, string? replyTo, long correlation)
    {
        Interlocked.Increment(ref _proxy.Hot.Sent);
        ValueTask publishing = Nats.PublishAsync(subject, frame, replyTo: replyTo);
        if (!publishing.IsCompletedSuccessfully)
        {
            _ = Observe(publishing, correlation);
        }

        async Task Observe(ValueTask publishing, long correlation)
        {
            try
            {
                await publishing.ConfigureAwait(false);
            }
#pragma warning disable CA1031
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (correlation != 0 && _proxy.Replies.Pending.TryRemove(correlation, out PendingRemote? pending))
                {
                    pending.Sink.TryFail(new TetherException(ErrorCodes.NodeUnreachable, $"{pending.Sink.Describe()}: the broker connection failed: {ex.Message}", ex));
                }
            }
        }
    }

    /// <summary>
    /// The message of an exception and of its inner exceptions: NATS.Net reports "can not start to connect" on top and the
    /// reason (a TLS certificate refused, a connection refused) only inside.
    /// </summary>
    private static string Causes(Exception ex)
    {
        var text = new StringBuilder(ex.Message);
        for (Exception? inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!text.ToString().Contains(inner.Message, StringComparison.Ordinal))
            {
                text.Append(": ").Append(inner.Message);
            }
        }

        return text.ToString();
    }
}
