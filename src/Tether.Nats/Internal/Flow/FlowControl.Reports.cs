using System.Buffers;
using System.Diagnostics;
using MessagePack;
using NATS.Client.Core;

namespace Tether.Nats.Internal;

// FlowControl, part: the reports — credit back to each sender (on a timer and as frames drain), the resets after a
// reconnection, and the flow-control frames this node receives: a sender's hello, and as a sender, reports and resets.
internal sealed partial class FlowControl
{
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
