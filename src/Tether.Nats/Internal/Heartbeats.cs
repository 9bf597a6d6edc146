using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Tether.Nats.Internal;

/// <summary>
/// Heartbeats and failure detection: every <see cref="BrokerOptions.HeartbeatInterval"/> this node announces itself and
/// its service instances on <c>tether.{cluster}.hb</c>; a peer silent for <see cref="BrokerOptions.FailureTimeout"/>, or
/// one that said goodbye, is lost: its pending requests fail at once and the instances it owned here end.
/// </summary>
internal sealed partial class Heartbeats(BrokerProxy proxy)
{
    private const byte Lost = 0;
    private const byte Stopped = 1;
    private readonly BrokerProxy _proxy = proxy;
    private readonly ConcurrentDictionary<string, long> _peers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _lost = new(StringComparer.Ordinal); // the value: Lost or Stopped
    private readonly ConcurrentDictionary<string, HashSet<string>> _served = new(StringComparer.Ordinal); // every service a peer announced since it joined
    private int _lostCount; // the entries of _lost, kept beside it under the peers' lock
    private long _peersLost;
    private long _peersStopped;
    private long _lastBeat;
    private ITimer? _timer;

    /// <summary>The peers heard from within the failure timeout.</summary>
    public IReadOnlyCollection<string> Peers => _peers.Keys.ToArray();

    /// <summary>Peers declared lost so far.</summary>
    public long PeersLost => Interlocked.Read(ref _peersLost);

    /// <summary>Peers that said goodbye so far (a clean stop, not a loss).</summary>
    public long PeersStopped => Interlocked.Read(ref _peersStopped);

    /// <summary>Starts beating (the first beat at once).</summary>
    public void Start()
        => _timer = _proxy.NodeHost.TimeProvider.CreateTimer(static s => ((Heartbeats)s!).Beat(), this, TimeSpan.Zero, _proxy.Options.HeartbeatInterval);

    /// <summary>Stops beating; with <paramref name="goodbye"/>, tells the peers this node leaves (else they find out by silence).</summary>
    public async Task StopAsync(bool goodbye)
    {
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false); // no heartbeat may follow the goodbye
        }

        if (!goodbye || !_proxy.Link.IsConnected)
        {
            return; // without a connection the goodbye would wait for one: peers find out by silence
        }

        try
        {
            // Bounded: a server that goes away right now must not hold up the stop.
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(1));

            // First a round trip: whatever the server handed this node before the service queue groups left is read (the
            // node answers it, if only with an error). Then what the outboxes still hold goes out, and only then the goodbye,
            // behind it on the same connection: a peer fails with node-stopped only requests this node never answered.
            await _proxy.Link.Nats.PingAsync(bounded.Token).ConfigureAwait(false);
            await _proxy.Outboxes.DrainAsync(TimeSpan.FromSeconds(0.5)).ConfigureAwait(false);
            Frame bye = new() { Kind = FrameKind.Bye, SenderNode = _proxy.NodeName };
            await _proxy.Link.Nats.PublishAsync($"{_proxy.Link.Prefix}.hb", bye.Encode(null, null), cancellationToken: bounded.Token).ConfigureAwait(false);
            await _proxy.Link.Nats.PingAsync(bounded.Token).ConfigureAwait(false); // flushed: the peers hear it before the connection closes
        }
        catch (Exception ex) when (ex is NatsException or ObjectDisposedException or OperationCanceledException)
        {
            // Peers will find out by silence.
        }
    }

    /// <summary>The periodic tick: announce ourselves, then look for silent peers and leftover correlations.</summary>
    private void Beat()
    {
        if (_proxy.Link.Stopping.IsCancellationRequested)
        {
            return;
        }

        Announce();
        long now = _proxy.NodeHost.TimeProvider.GetTimestamp();
        long last = Interlocked.Exchange(ref _lastBeat, now);
        if (last != 0 && _proxy.NodeHost.TimeProvider.GetElapsedTime(last, now) > _proxy.Options.FailureTimeout / 2)
        {
            // This process itself stalled (a long GC pause, a starved thread pool): the peers' heartbeats may be
            // waiting in our own buffers. Judge them at the next tick, not now.
            return;
        }

        foreach ((string peer, long seen) in _peers)
        {
            if (_proxy.NodeHost.TimeProvider.GetElapsedTime(seen, now) > _proxy.Options.FailureTimeout)
            {
                PeerGone(peer, seen, stopped: false);
            }
        }

        // Requests that ended by their deadline leave their correlation behind: drop them, and count a timed-out
        // service request against the instance that did not answer.
        foreach ((long correlation, PendingRemote pending) in _proxy.Replies.Pending)
        {
            if (pending.Sink.IsCompleted && _proxy.Replies.Pending.TryRemove(correlation, out _) && pending.Service is { } service && !pending.Instance.IsNone)
            {
                _proxy.Router.Record(service, pending.Instance, Stopwatch.GetElapsedTime(pending.Start).TotalMilliseconds * ServiceRouter.ErrorPenalty);
            }
        }
    }

    public void Announce()
    {
        var services = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach ((string name, Address[] instances) in _proxy.NodeHost.LocalServices())
        {
            services[name] = Array.ConvertAll(instances, a => a.Id);
        }

        Frame beat = new() { Kind = FrameKind.Heartbeat, SenderNode = _proxy.NodeName };
        _proxy.Link.Publish($"{_proxy.Link.Prefix}.hb", beat.Encode(_proxy.Codecs.ForOwn(typeof(Dictionary<string, long[]>)), services), null, 0);
    }

    public void OnHeartbeat(Incoming msg)
    {
        if (!_proxy.Inbound.TryOpen(msg, out Frame frame, out int payloadAt))
        {
            return; // counted as bad
        }

        // Everything else that is not a peer's heartbeat or goodbye is a bad frame too, counted: none is dropped unseen.
        if (frame.Kind is not (FrameKind.Heartbeat or FrameKind.Bye))
        {
            _proxy.Inbound.BadFrame(msg, $"a {frame.Kind} frame does not belong on the heartbeat subject");
            return;
        }

        if (frame.SenderNode is not { } peer || !BrokerOptions.IsToken(peer))
        {
            _proxy.Inbound.BadFrame(msg, "a heartbeat must name its node (a token)");
            return;
        }

        if (peer == _proxy.NodeName)
        {
            return; // our own
        }

        if (frame.Kind == FrameKind.Bye)
        {
            PeerGone(peer, expectedSeen: null, stopped: true);
            return;
        }

        if (Frame.ReadPayload(msg.Data, payloadAt, _proxy.Codecs.ForOwn(typeof(Dictionary<string, long[]>))) is not Dictionary<string, long[]> services)
        {
            _proxy.Inbound.BadFrame(msg, "a heartbeat without its list of services");
            return;
        }

        _proxy.Router.Announce(peer, services);
        HashSet<string> served = _served.GetOrAdd(peer, static _ => new HashSet<string>(StringComparer.Ordinal));
        lock (served)
        {
            served.UnionWith(services.Keys);
        }

        bool joined;
        lock (_peers)
        {
            joined = !_peers.ContainsKey(peer);
            _peers[peer] = _proxy.NodeHost.TimeProvider.GetTimestamp();
            if (_lost.TryRemove(peer, out _))
            {
                Interlocked.Decrement(ref _lostCount);
            }
        }

        if (joined)
        {
            LogPeerJoined(_proxy.Logger, peer);
        }
    }

    /// <summary>
    /// Declares a peer gone, unless a heartbeat refreshed it since <paramref name="expectedSeen"/> was read
    /// (null: unconditionally, for a goodbye). Peer state changes under one lock, so a heartbeat racing the sweep
    /// can never leave a live peer marked lost. A peer that said goodbye (<paramref name="stopped"/>) stopped
    /// normally: its pending requests fail with <see cref="ErrorCodes.NodeStopped"/>, it is counted apart from the
    /// lost ones and logged as information, not as a warning.
    /// </summary>
    public void PeerGone(string peer, long? expectedSeen, bool stopped)
    {
        lock (_peers)
        {
            if (!_peers.TryGetValue(peer, out long seen) || (expectedSeen is { } expected && seen != expected))
            {
                return;
            }

            _peers.TryRemove(peer, out _);
            if (_lost.TryAdd(peer, stopped ? Stopped : Lost))
            {
                Interlocked.Increment(ref _lostCount);
            }
            else
            {
                _lost[peer] = stopped ? Stopped : Lost;
            }
        }

        Interlocked.Increment(ref stopped ? ref _peersStopped : ref _peersLost);
        int failed = 0;
        _proxy.Router.Forget(peer);
        string destination = $"node {peer}";

        // A request sent through a service's queue group is watched as "service S" until its taker's Accepted notice
        // arrives. If the peer served S and no other node is known to, the peer had it: with its goodbye (after which
        // no Accepted can follow) or its loss, it will not be answered.
        HashSet<string> orphaned = new(StringComparer.Ordinal);
        if (_served.TryRemove(peer, out HashSet<string>? served))
        {
            lock (served)
            {
                foreach (string service in served)
                {
                    if (_proxy.Router.Choose(service) is null)
                    {
                        orphaned.Add($"service {service}");
                    }
                }
            }
        }

        foreach ((long correlation, PendingRemote pending) in _proxy.Replies.Pending)
        {
            if ((pending.Destination == destination || (orphaned.Count > 0 && pending.Instance.IsNone && orphaned.Contains(pending.Destination)))
                && _proxy.Replies.Pending.TryRemove(correlation, out _))
            {
                TetherException error = stopped
                    ? new(ErrorCodes.NodeStopped, $"{pending.Sink.Describe()}: node {peer} stopped before it answered.")
                    : new(ErrorCodes.NodeUnreachable, $"{pending.Sink.Describe()}: node {peer} is unreachable (no heartbeat within {_proxy.Options.FailureTimeout.TotalSeconds:0.#} s).");
                failed += pending.Sink.TryFail(error) ? 1 : 0;
            }
        }

        int ended = _proxy.NodeHost.OwnerNodeLost(peer);
        if (stopped)
        {
            LogPeerStopped(_proxy.Logger, peer, failed, ended);
        }
        else
        {
            LogPeerLost(_proxy.Logger, peer, failed, ended);
        }
    }

    /// <summary>Whether <paramref name="node"/> is declared unreachable; while no node is, without a lookup (it runs for every frame sent).</summary>
    public bool IsLost(string node) => Volatile.Read(ref _lostCount) != 0 && _lost.ContainsKey(node);

    /// <summary>The error for a request that <paramref name="node"/>, gone, will not answer: node-stopped after its goodbye, else node-unreachable.</summary>
    public TetherException Gone(string node, string what)
        => _lost.TryGetValue(node, out byte how) && how == Stopped
            ? new TetherException(ErrorCodes.NodeStopped, $"{what}: node {node} stopped.")
            : new TetherException(ErrorCodes.NodeUnreachable, $"{what}: node {node} is unreachable.");

    [LoggerMessage(3, LogLevel.Warning, "Node {Peer} is unreachable: {Failed} pending requests failed, {Ended} instances it owned here end")]
    private static partial void LogPeerLost(ILogger logger, string peer, int failed, int ended);

    [LoggerMessage(7, LogLevel.Information, "Node {Peer} stopped: {Failed} pending requests failed, {Ended} instances it owned here end")]
    private static partial void LogPeerStopped(ILogger logger, string peer, int failed, int ended);

    [LoggerMessage(4, LogLevel.Information, "Node {Peer} joined")]
    private static partial void LogPeerJoined(ILogger logger, string peer);
}
