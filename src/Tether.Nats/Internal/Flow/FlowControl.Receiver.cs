using System.Diagnostics;
using Tether.Transport;

namespace Tether.Nats.Internal;

// FlowControl, part: the receiver — counting frames per sender, parking frames for a full mailbox, and draining them.
// The reports (credit) back to senders are in FlowControl.Reports.cs.
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
}
