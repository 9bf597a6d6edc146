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
/// <remarks>
/// Sending, receiving and judging heartbeats run on one dedicated thread over a connection of their own
/// (<see cref="HeartbeatLink"/>), never on the thread pool: handlers that keep every pool thread busy neither silence
/// this node nor make it deaf to its peers, so a busy node is not declared lost (issue 16, item 4).
/// </remarks>
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
    private readonly ConcurrentDictionary<string, byte> _leaving = new(StringComparer.Ordinal); // said goodbye; being let go (see ByeAsync)
    private readonly ConcurrentDictionary<string, (Dictionary<string, long[]> Services, long Since)> _rejoining = new(StringComparer.Ordinal); // lost, heard again, not yet admitted (see ProbeAsync)
    private readonly ConcurrentDictionary<string, byte> _probing = new(StringComparer.Ordinal);
    private HeartbeatLink? _link;
    private Thread? _thread;
    private bool _running;

    /// <summary>The peers heard from within the failure timeout.</summary>
    public IReadOnlyCollection<string> Peers => _peers.Keys.ToArray();

    /// <summary>Peers declared lost so far.</summary>
    public long PeersLost => Interlocked.Read(ref _peersLost);

    /// <summary>Peers that said goodbye so far (a clean stop, not a loss).</summary>
    public long PeersStopped => Interlocked.Read(ref _peersStopped);

    private string Subject => $"{_proxy.Link.Prefix}.hb";

    /// <summary>Opens the heartbeats' own connection and starts their thread (the first beat at once). Blocks while it connects.</summary>
    /// <exception cref="TetherException">Code <see cref="ErrorCodes.NodeUnreachable"/>: the connection could not be opened.</exception>
    public void Start()
    {
        _link = HeartbeatLink.Connect(_proxy.NodeName, _proxy.Options, Subject);
        Volatile.Write(ref _running, true);
        _thread = new Thread(Run) { IsBackground = true, Name = $"tether-hb-{_proxy.NodeName}" };
        _thread.Start();
    }

    /// <summary>Stops beating; with <paramref name="goodbye"/>, tells the peers this node leaves (else they find out by silence).</summary>
    public async Task StopAsync(bool goodbye)
    {
        Volatile.Write(ref _running, false);
        if (_thread is { } thread)
        {
            // It wakes within one interval. No heartbeat may follow the goodbye.
            await Task.Run(() => thread.Join(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        }

        if (_link is { } link)
        {
            // With a goodbye, the last heartbeat reaches the server before it (it goes through the main connection below).
            // Bounded both ways: a server that is gone must not hold up the stop.
            await Task.Run(() =>
            {
                if (goodbye)
                {
                    link.Flush(500);
                }

                link.Dispose();
            }).WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
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

    /// <summary>
    /// The heartbeat thread: a beat every <see cref="BrokerOptions.HeartbeatInterval"/>, and between beats the peers'
    /// heartbeats as they arrive on the heartbeat connection (whose socket is read by a thread of its own, see
    /// <see cref="HeartbeatLink"/>). Nothing here waits for the thread pool.
    /// </summary>
    private void Run()
    {
        TimeProvider time = _proxy.NodeHost.TimeProvider;
        TimeSpan interval = _proxy.Options.HeartbeatInterval;
        long beat = 0;
        while (Volatile.Read(ref _running))
        {
            if (beat == 0 || time.GetElapsedTime(beat) >= interval)
            {
                beat = time.GetTimestamp();
                try
                {
                    Beat();
                }
#pragma warning disable CA1031 // the thread goes on: a failed beat must not end failure detection
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    LogBeatFailed(_proxy.Logger, _proxy.NodeName, ex);
                }
            }

            TimeSpan left = interval - time.GetElapsedTime(beat);
            if (_link!.Next((int)Math.Ceiling(Math.Max(1, left.TotalMilliseconds))) is { } msg)
            {
                try
                {
                    _proxy.Inbound.Dispatch(msg, OnHeartbeat);
                }
#pragma warning disable CA1031 // a bad frame is counted where it is found; nothing stops this thread
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    _proxy.Inbound.BadFrame(msg, ex.Message);
                }
            }
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
            // This process itself stalled (a long GC pause, a SIGSTOP, a process starved of CPU; not a busy thread pool,
            // which this thread does not wait for): the peers' heartbeats may be waiting in our own buffers. Judge them
            // at the next tick, not now.
            return;
        }

        foreach ((string peer, long seen) in _peers)
        {
            if (_proxy.NodeHost.TimeProvider.GetElapsedTime(seen, now) > _proxy.Options.FailureTimeout && !_leaving.ContainsKey(peer))
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
        _link?.TryPublish(Subject, beat.Encode(_proxy.Codecs.ForOwn(typeof(Dictionary<string, long[]>)), services)); // none before Start: its first beat announces
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
            if (_leaving.TryAdd(peer, 0))
            {
                _ = ByeAsync(peer);
            }

            return;
        }

        if (Frame.ReadPayload(msg.Data, payloadAt, _proxy.Codecs.ForOwn(typeof(Dictionary<string, long[]>))) is not Dictionary<string, long[]> services)
        {
            _proxy.Inbound.BadFrame(msg, "a heartbeat without its list of services");
            return;
        }

        if (!_peers.ContainsKey(peer) && _lost.ContainsKey(peer))
        {
            // A peer declared lost is heard again: its heartbeats come through, but that says only that the way from
            // it to here works. After a partition heals, TCP retransmits each direction of a link on its own backoff,
            // and a server may still close the link as stale and connect again a second later: requests sent to the
            // peer now would be lost (a timeout, not a fast error). It is admitted once a round trip over the main
            // connection (the one requests and answers take) comes back; until then requests to it fail fast.
            _rejoining[peer] = (services, _rejoining.TryGetValue(peer, out var before) ? before.Since : _proxy.NodeHost.TimeProvider.GetTimestamp());
            if (_probing.TryAdd(peer, 0))
            {
                _ = ProbeAsync(peer);
            }

            return;
        }

        Admit(peer, services);
    }

    [LoggerMessage(8, LogLevel.Error, "Node {Node}: a heartbeat step failed; heartbeats go on")]
    private static partial void LogBeatFailed(ILogger logger, string node, Exception exception);
}
