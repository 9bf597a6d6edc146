using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Tether.Nats.Internal;

// Membership: a heard peer admitted (or, after its loss, probed before it is admitted again), a goodbye let go, a peer
// declared lost or stopped and what that ends. Heartbeats.cs holds the thread that sends, receives and judges the beats.
internal sealed partial class Heartbeats
{
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

    [LoggerMessage(4, LogLevel.Information, "Node {Peer} joined")]
    private static partial void LogPeerJoined(ILogger logger, string peer);

    [LoggerMessage(3, LogLevel.Warning, "Node {Peer} is unreachable: {Failed} pending requests failed, {Ended} instances it owned here end")]
    private static partial void LogPeerLost(ILogger logger, string peer, int failed, int ended);

    [LoggerMessage(7, LogLevel.Information, "Node {Peer} stopped: {Failed} pending requests failed, {Ended} instances it owned here end")]
    private static partial void LogPeerStopped(ILogger logger, string peer, int failed, int ended);

    [LoggerMessage(9, LogLevel.Information, "Node {Peer} is reachable again: a round trip through the broker came back {Ms:0} ms after its first heartbeat since its loss")]
    private static partial void LogPeerRejoined(ILogger logger, string peer, double ms);

    [LoggerMessage(10, LogLevel.Debug, "Node {Peer} is heard again, but a round trip to it did not come back ({Why}); trying again at its next heartbeat")]
    private static partial void LogProbeFailed(ILogger logger, string peer, string why);
}
