using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MessagePack;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Tether.Transport;

namespace Tether.Nats.Internal;

// FlowControl, part: the receiver — counting frames per sender, parking frames for a full mailbox, draining them,
// and the reports (credit) back to senders.
internal sealed partial class FlowControl
{
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

    /// <summary>What this node counts of <paramref name="node"/>'s frames, in words, for failure messages and diagnostics.</summary>
    public string DescribeIn(string node)
        => _in.TryGetValue(node, out FlowIn? from)
            ? $"epoch {Volatile.Read(ref from.Epoch)}, received {Volatile.Read(ref from.Received)}, parked {Volatile.Read(ref from.Parked)}, taken {from.Taken}, reported {from.Reported} {Stopwatch.GetElapsedTime(from.ReportedAt).TotalMilliseconds:0} ms ago, dropped {Interlocked.Read(ref from.Dropped)}; parked here in all {ParkedCount}; flow ticks {Interlocked.Read(ref _ticks)}"
            : $"nothing counted of {node}";

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

    /// <summary>
    /// This node's NATS connection was made again: what was in flight either way may be lost. Its own counts as a sender
    /// start again at once, and every sender it counts is told (a reset naming the sender's epoch), so that credit lost
    /// with the frames is not missing for good (it would shrink the window until a 3 s stall). A peer that does not
    /// know the reset ignores it and recovers by the stall rule.
    /// </summary>
    public void OnReconnected()
    {
        foreach (Outbox outbox in _proxy.Outboxes.NodeOutboxes)
        {
            if (outbox.RestartCount(0))
            {
                LogCountRestarted(_proxy.Logger, outbox.Node!, $"node {_proxy.NodeName} reconnected to NATS");
            }
        }

        foreach (FlowIn from in _in.Values)
        {
            long epoch = Volatile.Read(ref from.Epoch);
            if (epoch == 0)
            {
                continue;
            }

            try
            {
                ValueTask publishing = _proxy.Link.Nats.PublishAsync($"{_proxy.Link.Prefix}.flow.{from.Node}", Encode(ResetKind, epoch, 0, 0, 0));
                if (!publishing.IsCompletedSuccessfully)
                {
                    _ = Observe(publishing);
                }
            }
            catch (Exception ex) when (ex is NatsException or ObjectDisposedException or OperationCanceledException)
            {
                return; // closing, or gone again: the next reconnect resets, and the stall rule covers a lost reset
            }
        }

        static async Task Observe(ValueTask publishing)
        {
            try
            {
                await publishing.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // a lost reset is made good by the sender's stall rule
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <summary>Every 50 ms: remainders reported (fewer than a step taken since the last report), stalled senders looked at.</summary>
    private void Tick()
    {
        Interlocked.Increment(ref _ticks);
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
        else if (kind == ResetKind && _proxy.Outboxes.FindNodeOutbox(node) is { } reset && reset.RestartCount(epoch))
        {
            LogCountRestarted(_proxy.Logger, node, $"node {node} reconnected to NATS");
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
}
