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
/// <see cref="StuckAfter"/> (frames or reports lost in a reconnect, a restarted peer) starts a new epoch; a peer that
/// never answers a hello (an older node) is not flow-controlled. A peer that does not know this subject ignores it: the
/// wire of frames and batches is unchanged.
/// </para>
/// </remarks>
internal sealed partial class FlowControl : IDisposable
{
    private const int Version = 1;
    private const int HelloKind = 0;
    private const int ReportKind = 1;

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

    /// <summary>
    /// The sender of a message that arrived on this node's inbox, from its NATS reply subject
    /// (<c>tether.{cluster}.reply.{node}.{n}</c>); null when it names none (a foreign client, an older node's send).
    /// </summary>
    public FlowIn? From(string? replyTo)
    {
        if (replyTo is null)
        {
            return null;
        }

        string head = _proxy.Link.ReplyHead;
        int dot = replyTo.LastIndexOf('.');
        if (dot <= head.Length || !replyTo.StartsWith(head, StringComparison.Ordinal))
        {
            return null;
        }

        ReadOnlySpan<char> node = replyTo.AsSpan(head.Length, dot - head.Length);
        return _inLookup.TryGetValue(node, out FlowIn? found) ? found : AddFlowIn(node.ToString());
    }

    private FlowIn? AddFlowIn(string node) => BrokerOptions.IsToken(node) ? _in.GetOrAdd(node, static n => new FlowIn(n)) : null;

    /// <summary>One frame of <paramref name="from"/> is done with here (handled, delivered, refused or parked).</summary>
    public void Counted(FlowIn from)
    {
        from.Received++;
        if (from.Taken - from.Reported >= Step)
        {
            Report(from);
        }
    }

    /// <summary>
    /// What becomes of a message for target <paramref name="id"/>: a send or event waits here when the target already has
    /// messages parked (they go first) or its mailbox is full; a request is never parked: it is delivered (the node answers
    /// it mailbox-full when the mailbox is full, as for a local request) unless messages are parked before it, when it is
    /// rejected at once (delivering it would pass them). <paramref name="run"/> is the unpacking thread's run.
    /// </summary>
    public Admission Admit(ref DeliveryRun run, long id, bool request, FlowIn from, ref long roomId, ref int room)
    {
        int parked = Volatile.Read(ref _parkedCount) > 0 ? ParkedFor(id) : 0;
        if (parked == 0)
        {
            if (roomId == id && room > 0)
            {
                room--;
                return Admission.Deliver;
            }

            roomId = id;
            room = _proxy.NodeHost.MailboxRoom(ref run, id);
            if (room > 0)
            {
                room--;
                return Admission.Deliver;
            }

            if (request)
            {
                return Admission.Deliver; // the node answers it mailbox-full
            }
        }
        else if (request)
        {
            return Admission.Reject;
        }

        if (parked < MaxParkedPerTarget)
        {
            return Admission.Park;
        }

        // Beyond the limit (several senders, or a target that does not drain): dropped here, not delivered (it would
        // pass the parked ones if the mailbox drained meanwhile), counted, and reported to its sender, which counts it too.
        CountDropThere(from, id);
        return Admission.Drop;
    }

    /// <summary>Beyond the park limit: the frame is delivered as without flow control (a send is dropped by the node); its sender hears of it.</summary>
    private void CountDropThere(FlowIn from, long id)
    {
        Interlocked.Increment(ref from.Dropped);
        Volatile.Write(ref from.LastDropped, id);
        long dropped = Interlocked.Increment(ref _droppedForPeers);
        if ((dropped & (dropped - 1)) == 0)
        {
            LogDroppedForPeer(_proxy.Logger, new Address(_proxy.NodeName, id), from.Node, MaxParkedPerTarget, dropped); // at 1, 2, 4, 8, ...
        }
    }

    private int ParkedFor(long id)
    {
        lock (_parkGate)
        {
            return _parked.TryGetValue(id, out Queue<Parked>? queue) ? queue.Count : 0;
        }
    }

    /// <summary>Whether an end or renewal for <paramref name="id"/> must wait behind parked messages.</summary>
    public bool HasParked(long id) => Volatile.Read(ref _parkedCount) > 0 && ParkedFor(id) > 0;

    /// <summary>Parks a frame for target <paramref name="id"/> until its mailbox has room (the caller flushed its run first).</summary>
    public void Park(long id, Parked parked)
    {
        Interlocked.Increment(ref parked.From.Parked); // before the frame is counted received: a report never counts it taken
        lock (_parkGate)
        {
            if (!_parked.TryGetValue(id, out Queue<Parked>? queue))
            {
                _parked[id] = queue = new Queue<Parked>();
            }

            queue.Enqueue(parked);
            _parkedCount++;
        }

        if (Interlocked.Exchange(ref _draining, 1) == 0)
        {
            _drain.Change(1, 1);
        }
    }

    /// <summary>Posts parked messages to mailboxes with room again, in order; every 1 ms while any are parked.</summary>
    private void Drain()
    {
        HashSet<FlowIn>? released = null;
        try
        {
            lock (_parkGate)
            {
                List<long>? empty = null;
                foreach ((long id, Queue<Parked> queue) in _parked)
                {
                    DeliveryRun none = default;
                    int room = _proxy.NodeHost.MailboxRoom(ref none, id);
                    while (queue.Count > 0 && (room > 0 || queue.Peek().Tether != FrameKind.Send))
                    {
                        Parked parked = queue.Dequeue();
                        _parkedCount--;
                        if (parked.Tether == FrameKind.Send)
                        {
                            room--;
                        }

                        Release(id, parked);
                        Interlocked.Decrement(ref parked.From.Parked);
                        (released ??= []).Add(parked.From);
                    }

                    if (queue.Count == 0)
                    {
                        (empty ??= []).Add(id);
                    }
                }

                if (empty is not null)
                {
                    foreach (long id in empty)
                    {
                        _parked.Remove(id);
                    }
                }

                if (_parkedCount == 0)
                {
                    Volatile.Write(ref _draining, 0);
                    _drain.Change(Timeout.Infinite, Timeout.Infinite);
                }
            }
        }
#pragma warning disable CA1031 // the drain must never stop (a target's failing reply path is logged by the node)
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogDrainFailed(_proxy.Logger, ex);
        }

        if (released is not null)
        {
            foreach (FlowIn from in released)
            {
                if (from.Taken - from.Reported >= Step)
                {
                    Report(from);
                }
            }
        }
    }

    /// <summary>Under the park lock (so a frame that arrives meanwhile cannot pass it): hands one parked frame on.</summary>
    private void Release(long id, Parked p)
    {
        var target = new Address(_proxy.NodeName, id);
        switch (p.Tether)
        {
            case FrameKind.End when p.Flag != 0:
                _proxy.NodeHost.OwnerEnded(p.Sender, target);
                break;
            case FrameKind.End:
                _proxy.NodeHost.End(p.Sender, target, p.Reason ?? "ended remotely");
                break;
            case FrameKind.Renew:
                _proxy.NodeHost.Renew(p.Sender, target);
                break;
            default:
                _proxy.NodeHost.Deliver(p.Sender, target, p.Payload!, p.Kind, p.Sink, p.Trace, p.Session);
                break;
        }
    }

    /// <summary>Tells <paramref name="from"/> how many of its frames this node has taken (and dropped) in its epoch.</summary>
    private void Report(FlowIn from)
    {
        long taken = from.Taken;
        from.Reported = taken;
        from.ReportedAt = Stopwatch.GetTimestamp();
        byte[] report = Encode(ReportKind, Volatile.Read(ref from.Epoch), taken, Interlocked.Read(ref from.Dropped) - from.DroppedBase, Volatile.Read(ref from.LastDropped));
        ValueTask publishing = _proxy.Link.Nats.PublishAsync($"{_proxy.Link.Prefix}.flow.{from.Node}", report);
        if (!publishing.IsCompletedSuccessfully)
        {
            _ = Observe(publishing);
        }

        static async Task Observe(ValueTask publishing)
        {
            try
            {
                await publishing.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // a lost report is made good by the next one (counts are cumulative)
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <summary>Every 50 ms: remainders reported (fewer than a step taken since the last report), stalled senders looked at.</summary>
    private void Tick()
    {
        try
        {
            foreach (FlowIn from in _in.Values)
            {
                if (from.Taken != from.Reported)
                {
                    Report(from);
                }
            }

            long now = Stopwatch.GetTimestamp();
            foreach (Outbox outbox in _proxy.Outboxes.NodeOutboxes)
            {
                switch (outbox.FlowTick(now, SilentAfter, StuckAfter))
                {
                    case 1:
                        LogPeerSilent(_proxy.Logger, outbox.Node!);
                        break;
                    case 2:
                        LogPeerStuck(_proxy.Logger, outbox.Node!);
                        break;
                }
            }
        }
#pragma warning disable CA1031 // a timer callback that throws would end the process
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogDrainFailed(_proxy.Logger, ex);
        }
    }

    /// <summary>A hello (a sender starts counting) or a report (a receiver's count), on the socket reader.</summary>
    private void OnFlow(Incoming msg)
    {
        int kind;
        string node;
        long epoch, taken, dropped, lastDropped;
        try
        {
            var reader = new MessagePackReader(new ReadOnlySequence<byte>(msg.Data));
            int count = reader.ReadArrayHeader();
            if (count < 7 || reader.ReadInt32() != Version)
            {
                return; // a later version this node does not read: it simply is not flow-controlled by it
            }

            kind = reader.ReadInt32();
            node = reader.ReadString() ?? string.Empty;
            epoch = reader.ReadInt64();
            taken = reader.ReadInt64();
            dropped = reader.ReadInt64();
            lastDropped = reader.ReadInt64();
        }
        catch (MessagePackSerializationException ex)
        {
            _proxy.Inbound.BadFrame(msg, $"a malformed flow-control message: {ex.Message}");
            return;
        }
        catch (EndOfStreamException ex)
        {
            _proxy.Inbound.BadFrame(msg, $"a truncated flow-control message: {ex.Message}");
            return;
        }

        if (kind == HelloKind)
        {
            if (AddFlowIn(node) is { } from)
            {
                // Counted from here on under the sender's new epoch. Its frames still parked from before count when taken;
                // that slight excess credit is bounded by what was parked.
                from.Restart(epoch);
                Report(from);
            }
        }
        else if (kind == ReportKind && _proxy.Outboxes.FindNodeOutbox(node) is { } outbox)
        {
            outbox.OnReport(epoch, taken, dropped, lastDropped);
        }
    }

    private byte[] Encode(int kind, long epoch, long taken, long dropped, long lastDropped)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(7);
        writer.Write(Version);
        writer.Write(kind);
        writer.Write(_proxy.NodeName);
        writer.Write(epoch);
        writer.Write(taken);
        writer.Write(dropped);
        writer.Write(lastDropped);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>What <see cref="Admit"/> decides.</summary>
    internal enum Admission
    {
        Deliver,
        Park,
        Reject,
        Drop,
    }

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

    [LoggerMessage(74, LogLevel.Error, "Flow control failed a round (it goes on)")]
    private static partial void LogDrainFailed(ILogger logger, Exception error);
}
