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

    private void Admit(string peer, Dictionary<string, long[]> services)
    {
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
    /// A round trip to a peer that is heard again after its loss: a request over the main connection to a target id no
    /// node gives out, which the peer answers with an error (no-such-target). Any answer but the server's "no responders"
    /// proves both ways work; then the peer is admitted. Otherwise the next heartbeat tries again.
    /// </summary>
    private async Task ProbeAsync(string peer)
    {
        long correlation = 0;
        try
        {
            var sink = new ProbeSink(peer);
            correlation = _proxy.Replies.NextCorrelation();
            _proxy.Replies.Pending[correlation] = new PendingRemote(sink, $"node {peer}", null, default);
            _proxy.Codecs.TryGetByType(typeof(bool), out PayloadCodec? codec);
            // No sender (an address needs a target id): the answer goes to the reply subject alone.
            Frame probe = new() { Kind = FrameKind.Request, RecipientId = long.MaxValue, Contract = codec!.Contract };
            _proxy.Link.Publish($"{_proxy.Link.Prefix}.node.{peer}", probe.Encode(codec, true), _proxy.Link.ReplyPrefix + correlation.ToString(System.Globalization.CultureInfo.InvariantCulture), correlation);
            bool answered = await sink.Answered.WaitAsync(_proxy.Options.FailureTimeout / 2, _proxy.Link.Stopping.Token).ConfigureAwait(false);
            if (answered && _rejoining.TryRemove(peer, out var rejoining))
            {
                Admit(peer, rejoining.Services);
                LogPeerRejoined(_proxy.Logger, peer, _proxy.NodeHost.TimeProvider.GetElapsedTime(rejoining.Since).TotalMilliseconds);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or NatsException or ObjectDisposedException)
        {
            LogProbeFailed(_proxy.Logger, peer, ex.Message);
        }
        finally
        {
            if (correlation != 0)
            {
                _proxy.Replies.Pending.TryRemove(correlation, out _);
            }

            _probing.TryRemove(peer, out _);
        }
    }

    /// <summary>The answer to a rejoin probe: true for any answer of the peer, false for the server's "no responders".</summary>
    private sealed class ProbeSink(string peer) : Tether.Transport.ReplySink
    {
        private readonly TaskCompletionSource<bool> _answered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<bool> Answered => _answered.Task;

        public override string Describe() => $"a round trip to node {peer}";

        protected override void OnResponse(object? value) => _answered.TrySetResult(true);

        protected override void OnError(TetherException error) => _answered.TrySetResult(error.Code != ErrorCodes.NodeUnreachable);
    }

    /// <summary>
    /// Lets a peer that said goodbye go. The goodbye came through the heartbeat connection, but the peer's last answers
    /// came through the main one, behind which the peer sent it, and may still be on their way: a round trip on the main
    /// connection reads them first, so only what the peer never answered fails (with node-stopped).
    /// </summary>
    private async Task ByeAsync(string peer)
    {
        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await _proxy.Link.Nats.PingAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or ObjectDisposedException or OperationCanceledException)
        {
            // Without a main connection no answer can arrive either.
        }

        _proxy.NodeHost.NodeStopped(peer); // watches of its targets fire as "stopped" before PeerGone calls it unreachable
        PeerGone(peer, expectedSeen: null, stopped: true);
        _leaving.TryRemove(peer, out _);
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

    [LoggerMessage(8, LogLevel.Error, "Node {Node}: a heartbeat step failed; heartbeats go on")]
    private static partial void LogBeatFailed(ILogger logger, string node, Exception exception);

    [LoggerMessage(9, LogLevel.Information, "Node {Peer} is reachable again: a round trip through the broker came back {Ms:0} ms after its first heartbeat since its loss")]
    private static partial void LogPeerRejoined(ILogger logger, string peer, double ms);

    [LoggerMessage(10, LogLevel.Debug, "Node {Peer} is heard again, but a round trip to it did not come back ({Why}); trying again at its next heartbeat")]
    private static partial void LogProbeFailed(ILogger logger, string peer, string why);

    [LoggerMessage(4, LogLevel.Information, "Node {Peer} joined")]
    private static partial void LogPeerJoined(ILogger logger, string peer);
}
