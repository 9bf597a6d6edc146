using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tether.Skin.Internal;

namespace Tether.Skin;

/// <summary>
/// RemoteSkin on a web node: turns each browser socket into a client target on <see cref="Node"/> and serves the
/// renderer. Map it with <c>app.MapTetherSkin("/skin", server)</c>.
/// </summary>
public sealed class SkinServer
{
    private readonly Dictionary<string, SkinApplication> _applications;
    private readonly ConcurrentDictionary<string, Address> _resumable = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<SkinConnection, byte> _live = new();
    private int _clients;
    private int _connections;
    private int _openDialogs;
    private long _badFrames;
    private long _rateLimited;
    private long _originsRefused;

    private SkinServer(Node node, SkinOptions options, ILoggerFactory loggerFactory)
    {
        Node = node;
        Options = options;
        Logger = loggerFactory.CreateLogger("Tether.Skin");
        _applications = new Dictionary<string, SkinApplication>(StringComparer.Ordinal);
        foreach (SkinApplication app in options.Applications)
        {
            if (!_applications.TryAdd(app.Name, app))
            {
                throw new ArgumentException($"SkinOptions.Applications names \"{app.Name}\" twice.", nameof(options));
            }

            if (!app.Dialogs.ContainsKey(app.StartDialog))
            {
                throw new ArgumentException($"Application \"{app.Name}\": its start dialog \"{app.StartDialog}\" is not among its dialogs.", nameof(options));
            }

            if (app.LoginDialog is { } login && !app.Dialogs.ContainsKey(login))
            {
                throw new ArgumentException($"Application \"{app.Name}\": its login dialog \"{login}\" is not among its dialogs.", nameof(options));
            }
        }
    }

    /// <summary>The node the client targets live on.</summary>
    public Node Node { get; }

    /// <summary>The options.</summary>
    public SkinOptions Options { get; }

    /// <summary>The figures now: clients, sockets, dialogs, refused input.</summary>
    public SkinStatistics Statistics => new(
        Volatile.Read(ref _clients),
        Volatile.Read(ref _connections),
        Volatile.Read(ref _openDialogs),
        DialogCounts.Get(Node),
        Interlocked.Read(ref _badFrames),
        Interlocked.Read(ref _rateLimited),
        Interlocked.Read(ref _originsRefused));

    internal ILogger Logger { get; }

    /// <summary>Creates the server for <paramref name="node"/>.</summary>
    /// <exception cref="ArgumentException">The options name an application twice, or an application's start or login dialog is not among its dialogs.</exception>
    public static SkinServer Create(Node node, SkinOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        SkinOptions o = options ?? SkinOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(o.MaxFrameBytes, 256, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(o.PingTimeout, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.EventsPerSecond, 1, nameof(options));
        var server = new SkinServer(node, o, loggerFactory ?? node.Options.LoggerFactory ?? NullLoggerFactory.Instance);

        // One sweep target per server checks every socket's last sign of life a few times a second, so a socket that just
        // died is closed within the ping timeout plus one sweep period; the clients' own ticks only send pings.
        node.Spawn(() => new LivenessSweep(server));
        return server;
    }

    internal bool TryGetApplication(string name, out SkinApplication application)
        => _applications.TryGetValue(name, out application!);

    internal void ClientStarted() => Interlocked.Increment(ref _clients);

    internal void ClientEnded() => Interlocked.Decrement(ref _clients);

    internal void ConnectionOpened(SkinConnection connection)
    {
        Interlocked.Increment(ref _connections);
        _live[connection] = 0;
    }

    internal void ConnectionClosed(SkinConnection connection)
    {
        Interlocked.Decrement(ref _connections);
        _live.TryRemove(connection, out _);
    }

    /// <summary>Closes every socket from which nothing arrived within the ping timeout (the liveness sweep's tick).</summary>
    internal void Sweep()
    {
        long now = Environment.TickCount64;
        foreach (SkinConnection connection in _live.Keys)
        {
            connection.CheckAlive(now);
        }
    }

    internal void DialogsChanged(int delta) => Interlocked.Add(ref _openDialogs, delta);

    internal void BadFrame(string reason)
    {
        Interlocked.Increment(ref _badFrames);
        SkinMetrics.BadFrames.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    internal void RateLimitedFrame()
    {
        Interlocked.Increment(ref _rateLimited);
        SkinMetrics.RateLimited.Add(1);
    }

    internal void OriginRefused()
    {
        Interlocked.Increment(ref _originsRefused);
        SkinMetrics.OriginsRefused.Add(1);
    }

    internal void AddResumable(string token, Address client) => _resumable[token] = client;

    internal void RemoveResumable(string token) => _resumable.TryRemove(token, out _);

    internal bool TryTakeResumable(string token, out Address client) => _resumable.TryRemove(token, out client);
}
