using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MessagePack;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Tether.Transport;

namespace Tether.Nats.Internal;

/// <summary>
/// Flow control of messages between nodes: credits per pair of nodes, returned as the receiver drains what it got into
/// its targets' mailboxes, so a sender that outruns a receiver is slowed before anything is dropped.
/// </summary>
/// <remarks>
/// <para>
/// <b>Sender.</b> Each peer's inbox outbox (<see cref="Outbox"/>, Outbox.Flow.cs) says hello on the peer's flow subject
/// (<c>tether.{cluster}.flow.{node}</c>) with an epoch before its first frame, then publishes only while fewer than
/// <see cref="BrokerOptions.FlowWindow"/> of its frames are unconfirmed. Frames without credit wait in the outbox, up to
/// <see cref="BrokerOptions.MaxPendingBytesPerNode"/>; beyond it a send is dropped and counted here, a request fails with
/// <see cref="ErrorCodes.MailboxFull"/>. Everything a node publishes to a peer's inbox names its reply subjects in the
/// NATS reply field (correlation 0 when it carries no request), so the receiver knows whose frames it counts.
/// </para>
/// <para>
/// <b>Receiver.</b> Counts every frame from each sender (<see cref="FlowIn"/>); a frame for a target whose mailbox is full
/// is not dropped but parked here, in order, and posted when the mailbox has room (a 1 ms drain while anything is
/// parked). Parked frames are not counted as taken, so the sender runs out of credit: what is parked per sender is
/// bounded by its window. Reports ("taken so far in your epoch") go back every <see cref="Step"/> frames and on the
/// tick. Beyond <see cref="MaxParkedPerTarget"/> a frame is delivered as before (a send dropped and counted by the
/// node), and the drop is reported to its sender, which counts it too.
/// </para>
/// <para>
/// Counts are cumulative, so a lost report is made good by the next. A sender stalled with no progress for
/// <see cref="StuckAfter"/> (frames or reports lost, a restarted peer) starts a new epoch, and so does every count of a
/// node whose connection was made again, at once (<see cref="OnReconnected"/>: its own counts, and a reset to each of
/// its senders), so that credit lost with frames in flight is not missing for good; a peer that
/// never answers a hello (an older node) is not flow-controlled. A peer that does not know this subject ignores it: the
/// wire of frames and batches is unchanged.
/// </para>
/// </remarks>
internal sealed partial class FlowControl : IDisposable
{
    private const int Version = 1;
    private const int HelloKind = 0;
    private const int ReportKind = 1;
    private const int ResetKind = 2; // a receiver reconnected: the sender named starts a new count

    /// <summary>A peer that answers no hello this long after a stall does not speak flow control.</summary>
    private static readonly long SilentAfter = Stopwatch.Frequency; // 1 s

    /// <summary>A stalled peer that has taken nothing for this long starts a new count.</summary>
    private static readonly long StuckAfter = 3 * Stopwatch.Frequency;

    private readonly BrokerProxy _proxy;
    private readonly ConcurrentDictionary<string, FlowIn> _in = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FlowIn>.AlternateLookup<ReadOnlySpan<char>> _inLookup;
    private readonly Lock _parkGate = new();
    private readonly Dictionary<long, Queue<Parked>> _parked = [];
    private readonly Timer _tick;
    private readonly Timer _drain;
    private readonly Meter _meter;
    private readonly Counter<long> _droppedCounter;
    private readonly Counter<long> _waitsCounter;
    private InlineSub? _sub; // held strongly: NATS.Net keeps subscriptions through weak references
    private long _ticks; // rounds of the flow tick, for diagnostics
    private int _parkedCount;
    private int _draining;
    private long _sendsDropped;
    private long _droppedForPeers;
    private long _creditWaits;
    private long _lastDropLog;
    private long _dropsSinceLog;

    public FlowControl(BrokerProxy proxy)
    {
        _proxy = proxy;
        _inLookup = _in.GetAlternateLookup<ReadOnlySpan<char>>();
        Subject = $"{proxy.Link.Prefix}.flow.{proxy.NodeName}";
        Step = Math.Max(1, proxy.Options.FlowWindow / 8);
        // Two windows: one sender may have a window and a segment (a quarter window) untaken, all of it parked here while
        // the mailbox holds what was taken; more means several senders at once, or one that ignores credit.
        MaxParkedPerTarget = 2 * proxy.Options.FlowWindow;
        _meter = new Meter(new MeterOptions(Node.TelemetryName) { Version = "1.0", Tags = [new("tether.node", proxy.NodeName)] });
        _droppedCounter = _meter.CreateCounter<long>("tether.nats.sends_dropped", "{message}", "Sends to other nodes dropped: waiting here beyond BrokerOptions.MaxPendingBytesPerNode, or reported dropped by the receiving node.");
        _waitsCounter = _meter.CreateCounter<long>("tether.nats.credit_waits", "{wait}", "Times an outbox for another node stopped to wait for credit.");
        _meter.CreateObservableGauge("tether.nats.parked", () => Volatile.Read(ref _parkedCount), "{message}", "Messages from other nodes parked while their target's mailbox is full.");

        // The proxy's one meter (disposed with flow control) also reports the durable topics' outcomes (NatsTopics).
        _meter.CreateObservableCounter("tether.nats.durable.acknowledged", () => proxy.Topics?.DurableAcknowledged ?? 0, "{event}", "Durable events this node published that JetStream acknowledged (stored).");
        _meter.CreateObservableCounter("tether.nats.durable.failed", () => proxy.Topics?.DurableFailed ?? 0, "{event}", "Durable events this node published that JetStream did not acknowledge (logged; they may be lost).");
        _tick = new Timer(static s => ((FlowControl)s!).Tick(), this, Timeout.Infinite, Timeout.Infinite);
        _drain = new Timer(static s => ((FlowControl)s!).Drain(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>This node's flow subject: hellos from senders and reports from receivers.</summary>
    public string Subject { get; }

    /// <summary>A receiver reports after taking this many frames of one sender (an eighth of the window).</summary>
    public int Step { get; }

    /// <summary>
    /// The most frames parked for one target; beyond, a frame is delivered as without flow control (dropped by the node if
    /// the mailbox is still full, and reported to its sender). So a target that does not drain holds up its senders'
    /// traffic to this node for at most <see cref="StuckAfter"/>: their next epoch's frames for it are dropped and
    /// counted taken, and the rest flows again.
    /// </summary>
    public int MaxParkedPerTarget { get; }

    public long SendsDropped => Interlocked.Read(ref _sendsDropped);

    public long CreditWaits => Interlocked.Read(ref _creditWaits);

    public long DroppedForPeers => Interlocked.Read(ref _droppedForPeers);

    /// <summary>Frames parked here now.</summary>
    public int ParkedCount => Volatile.Read(ref _parkedCount);

    /// <summary>A random epoch, never 0 (what a receiver that got no hello reports).</summary>
    public static long NewEpoch() => Random.Shared.NextInt64(1, long.MaxValue);

    public async Task StartAsync(CancellationToken cancellation)
    {
        _sub = new InlineSub(_proxy.Link.Nats, Subject, OnFlow, _proxy.Link.Stopping.Token);
        await _proxy.Link.Nats.AddSubAsync(_sub, cancellation).ConfigureAwait(false);
        _tick.Change(50, 50);
    }

    public void Dispose()
    {
        _tick.Dispose();
        _drain.Dispose();
        _meter.Dispose();
    }

    // ---- Sender side ------------------------------------------------------------------------------------------------

    public void CountWait()
    {
        Interlocked.Increment(ref _creditWaits);
        _waitsCounter.Add(1);
    }

    /// <summary>Says hello to <paramref name="outbox"/>'s peer: it counts this node's frames from now on under the outbox's epoch.</summary>
    public ValueTask SendHello(Outbox outbox)
    {
        byte[] hello = Encode(HelloKind, outbox.Epoch, 0, 0, 0);
        return _proxy.Link.Nats.PublishAsync($"{_proxy.Link.Prefix}.flow.{outbox.Node}", hello);
    }

    /// <summary>A send to <paramref name="to"/> found more than <see cref="BrokerOptions.MaxPendingBytesPerNode"/> waiting: dropped here.</summary>
    public void DroppedHere(Address to, string messageType, long waiting)
    {
        CountDrop(1);
        if (ShouldLogDrop(out long suppressed))
        {
            LogDroppedHere(_proxy.Logger, messageType, to, waiting, _proxy.Options.MaxPendingBytesPerNode, SendsDropped, suppressed);
        }
    }

    /// <summary>The peer of <paramref name="outbox"/> reported sends it dropped (its target's mailbox and flow queue were full).</summary>
    public void DroppedThere(Outbox outbox, long count, long lastTarget)
    {
        CountDrop(count);
        if (ShouldLogDrop(out long suppressed))
        {
            LogDroppedThere(_proxy.Logger, count, new Address(outbox.Node!, lastTarget), SendsDropped, suppressed);
        }
    }

    private void CountDrop(long count)
    {
        Interlocked.Add(ref _sendsDropped, count);
        _droppedCounter.Add(count);
    }

    /// <summary>At most one drop line a second (the count of the others goes with the next).</summary>
    private bool ShouldLogDrop(out long suppressed)
    {
        long now = Stopwatch.GetTimestamp();
        long last = Volatile.Read(ref _lastDropLog);
        if ((last != 0 && now - last < Stopwatch.Frequency) || Interlocked.CompareExchange(ref _lastDropLog, now, last) != last)
        {
            Interlocked.Increment(ref _dropsSinceLog);
            suppressed = 0;
            return false;
        }

        suppressed = Interlocked.Exchange(ref _dropsSinceLog, 0);
        return true;
    }

    // ---- Receiver side ----------------------------------------------------------------------------------------------

    /// <summary>A frame waiting for its target's mailbox: a message, or an end or renewal behind messages.</summary>
    internal sealed class Parked(FlowIn from, Address sender)
    {
        public FlowIn From { get; } = from;

        public Address Sender { get; } = sender;

        /// <summary><see cref="FrameKind.Send"/> for a message (of <see cref="Kind"/>), or End or Renew.</summary>
        public FrameKind Tether { get; init; } = FrameKind.Send;

        public object? Payload { get; init; }

        public MessageKind Kind { get; init; }

        public ReplySink? Sink { get; init; }

        public ActivityContext Trace { get; init; }

        public string? Session { get; init; }

        public string? Reason { get; init; }

        public long Flag { get; init; }
    }

    [LoggerMessage(70, LogLevel.Warning, "Dropped {MessageType} for {Target}: {Waiting} bytes already wait for that node, more than BrokerOptions.MaxPendingBytesPerNode ({Bound}); it takes messages slower than they are sent (sends dropped so far: {Dropped}; not logged since the last line: {Suppressed})")]
    private static partial void LogDroppedHere(ILogger logger, string messageType, Address target, long waiting, int bound, long dropped, long suppressed);

    [LoggerMessage(71, LogLevel.Warning, "Node of {Target} dropped {Count} of our sends (last one for {Target}): its mailbox and flow-control queue were full (sends dropped so far: {Dropped}; not logged since the last line: {Suppressed})")]
    private static partial void LogDroppedThere(ILogger logger, long count, Address target, long dropped, long suppressed);

    [LoggerMessage(75, LogLevel.Warning, "Dropped a send from node {Sender} for {Target}: its mailbox is full and {Parked} messages already wait for it (dropped so far: {Dropped}; the sender is told and counts it too)")]
    private static partial void LogDroppedForPeer(ILogger logger, Address target, string sender, int parked, long dropped);

    [LoggerMessage(72, LogLevel.Information, "Node {Node} did not answer flow control within 1 s (an older Tether?): messages to it are no longer flow-controlled")]
    private static partial void LogPeerSilent(ILogger logger, string node);

    [LoggerMessage(73, LogLevel.Warning, "Node {Node} has taken none of our messages for 3 s while we wait for credit (lost reports, a restart, or a target that does not drain): the count starts again")]
    private static partial void LogPeerStuck(ILogger logger, string node);

    [LoggerMessage(81, LogLevel.Information, "Flow control with node {Node} starts a new count: {Why}, and frames in flight may have been lost with the connection (their credit with them)")]
    private static partial void LogCountRestarted(ILogger logger, string node, string why);

    [LoggerMessage(74, LogLevel.Error, "Flow control failed a round (it goes on)")]
    private static partial void LogDrainFailed(ILogger logger, Exception error);
}
