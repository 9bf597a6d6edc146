using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tether.Transport;

namespace Tether.Nats.Internal;

/// <summary>
/// Inbound dispatch: every message received (a lone frame, or a batch unpacked frame by frame) is counted, checked and
/// handed on: messages to the node's targets (consecutive ones for one target posted together, a
/// <see cref="DeliveryRun"/>), ends and renewals to the node, answers to <see cref="Replies"/> (completed together, an
/// <see cref="AnswerBatch"/>). A bad frame is counted, logged and answered; it never stops a subscription.
/// </summary>
internal sealed partial class InboundDispatch(BrokerProxy proxy)
{
    [ThreadStatic]
    private static AnswerBatch? t_answers;

    /// <summary>Messages for one local target from one received NATS message, posted together (see <see cref="DeliverLocally"/>).</summary>
    [ThreadStatic]
    private static DeliveryRun t_deliveries;

    /// <summary>The node that sent the message on the inbox being handled, when it speaks flow control (see <see cref="FlowControl"/>).</summary>
    [ThreadStatic]
    private static FlowIn? t_from;

    /// <summary>The free room last found in a target's mailbox while this message is unpacked, and that target's id.</summary>
    [ThreadStatic]
    private static int t_room;

    [ThreadStatic]
    private static long t_roomId;

    private readonly BrokerProxy _proxy = proxy;
    private readonly TransportHost _host = proxy.NodeHost;
    private readonly Replies _replies = proxy.Replies; // made before this part
    private readonly PayloadCodecs _codecs = proxy.Codecs;
    private readonly FlowControl _flow = proxy.Flow; // made before this part
    private readonly string _inbox = proxy.Link.Inbox;
    private long _badFrames;

    /// <summary>The answers being collected on this thread (while a received message is handled), if any.</summary>
    public static AnswerBatch? Answers => t_answers;

    /// <summary>Frames rejected so far.</summary>
    public long BadFrames => Interlocked.Read(ref _badFrames);

    /// <summary>Counts a received message and hands it (or each frame of a batch) to its handler; never throws.</summary>
    /// <remarks>
    /// Answers to requests are not completed one by one on the socket reader: they are collected while the message is
    /// handled and completed together in one thread-pool work item (<see cref="AnswerBatch"/>), as one run. Handling the
    /// message is not itself a run: a target it delivers to starts at its first message, on another core, while the reader
    /// goes on unpacking (deferring that wake to the end of the batch leaves the target idle while the reader works, which
    /// costs throughput when cores are few; see BENCHMARKS.md).
    /// </remarks>
    public void Dispatch(Incoming incoming, Action<Incoming> handle)
    {
        AnswerBatch? answers = t_answers;
        if (answers is null || answers.Guard != _proxy.FlushGuard)
        {
            t_answers = answers = new AnswerBatch(_proxy.FlushGuard); // per thread, and per proxy (a process may host several)
        }

        answers.Collecting = true;
        bool outermost = !t_deliveries.Active; // a nested dispatch (none today) adds to the run it is in
        t_deliveries.Active = true;
        if (outermost && incoming.ReplyTo is not null && string.Equals(incoming.Subject, _inbox, StringComparison.Ordinal))
        {
            t_from = _flow.From(incoming.ReplyTo); // what a node sends to our inbox names its reply subjects: it is counted
        }

        try
        {
            if (Frame.IsBatch(incoming.Data.Span))
            {
                Interlocked.Increment(ref _proxy.Hot.BatchesReceived);
                Unbatch(incoming, handle);
            }
            else
            {
                HandleOne(incoming, handle);
            }
        }
        finally
        {
            if (outermost)
            {
                FlushDeliveries(incoming);
                t_from = null;
                t_roomId = 0;
            }

            answers.Collecting = false;
            if (answers.Count == 1)
            {
                // A lone answer (sequential requests): completed here, its continuation queued on this thread's own
                // queue as for any request; a work item of its own would only add a hop to the global queue.
                answers.CompleteAlone();
            }
            else if (answers.Count > 1)
            {
                t_answers = null; // handed over: the next message gets a collection of its own
                ThreadPool.UnsafeQueueUserWorkItem(answers, preferLocal: false);
            }
        }
    }

    /// <summary>Posts what the received message left for local targets; never throws, and leaves no run behind.</summary>
    private void FlushDeliveries(Incoming incoming)
    {
        try
        {
            TransportHost.Flush(ref t_deliveries);
        }
#pragma warning disable CA1031 // a failing answer to one delivery must not reach the socket reader
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogDeliveryFailed(_proxy.Logger, incoming.Subject, ex);
        }
        finally
        {
            t_deliveries = default; // no target or node is kept alive by a reader thread between messages
        }
    }

    /// <summary>Counts one frame and handles it; whatever it throws is a bad frame, never the end of the subscription.</summary>
    private void HandleOne(Incoming frame, Action<Incoming> handle)
    {
        Interlocked.Increment(ref _proxy.Hot.Received);
        try
        {
            handle(frame);
        }
#pragma warning disable CA1031 // one bad frame never stops the subscription or the rest of its batch
        catch (Exception ex)
#pragma warning restore CA1031
        {
            BadFrame(frame, ex.Message);
        }
    }

    /// <summary>
    /// Handles each frame of a batch exactly as if it had come alone, in order. A malformed item ends the batch (the
    /// rest cannot be found): it is counted, and the batch's sender is told when it left a reply subject.
    /// </summary>
    private void Unbatch(Incoming batch, Action<Incoming> handle)
    {
        if (batch.Data.Length > _proxy.Options.MaxFrameBytes)
        {
            Interlocked.Increment(ref _proxy.Hot.Received);
            BadFrame(batch, $"the batch has {batch.Data.Length} bytes, more than the {_proxy.Options.MaxFrameBytes} allowed");
            return;
        }

        var reader = new WireReader(batch.Data.Span);
        int count;
        bool namesReferred;
        try
        {
            count = Frame.DecodeBatchHeader(ref reader, out namesReferred);
        }
        catch (WireException ex)
        {
            Interlocked.Increment(ref _proxy.Hot.Received);
            BadFrame(batch, ex.Message);
            return;
        }

        bool replies = batch.Subject.StartsWith(_proxy.Link.ReplyPrefix, StringComparison.Ordinal);

        // Requests in a batch name no reply subject each: they are answered to the batch sender's replies, with their
        // correlation (the batch's own reply subject says where those go). Resolved once for the whole batch.
        Outbox? requester = !replies && batch.ReplyTo is { } batchReply ? _proxy.Outboxes.ReplyOutbox(batchReply, out _) : null;
        BatchNames? names = namesReferred ? new BatchNames() : null; // a version-1 batch has every name in full
        for (int i = 0; i < count; i++)
        {
            Incoming item;
            try
            {
                Frame.DecodeBatchItem(ref reader, batch.Data, out long correlation, out string? replyTo, out ReadOnlyMemory<byte> frame);
                item = new Incoming(batch.Subject, replyTo, frame, Correlation: correlation, Replies: requester, Names: names);
            }
            catch (WireException ex)
            {
                Interlocked.Increment(ref _proxy.Hot.Received);
                BadFrame(batch, $"frame {i + 1} of {count} in a batch: {ex.Message}");
                return;
            }

            names?.Next();
            HandleOne(item, handle);
        }
    }

    public void OnInbox(Incoming msg)
    {
        FlowIn? from = t_from;
        try
        {
            OnInboxFrame(msg);
        }
        finally
        {
            if (from is not null)
            {
                _flow.Counted(from); // every frame, whatever became of it: the sender's credit comes back
            }
        }
    }

    private void OnInboxFrame(Incoming msg)
    {
        if (!TryOpen(msg, out Frame frame, out int payload))
        {
            return;
        }

        switch (frame.Kind)
        {
            case FrameKind.Send or FrameKind.Request or FrameKind.Event:
                DeliverLocally(msg, frame, payload);
                break;
            case FrameKind.End or FrameKind.Renew when t_from is { } from && frame.SenderNode is not null && frame.SenderId > 0 && _flow.HasParked(frame.RecipientId):
                // Behind the messages parked for the target, in order.
                _flow.Park(frame.RecipientId, new FlowControl.Parked(from, frame.Sender) { Tether = frame.Kind, Reason = frame.ErrorText, Flag = frame.Flag });
                break;
            case FrameKind.End or FrameKind.Renew:
                TransportHost.Flush(ref t_deliveries); // the messages before it in the batch reach the target first
                OnTether(msg, frame);
                break;
            case FrameKind.Watch or FrameKind.Unwatch or FrameKind.Ended:
                TransportHost.Flush(ref t_deliveries); // an end is reported after the messages the target sent before it
                _proxy.Watches.OnFrame(msg, frame);
                break;
            default:
                BadFrame(msg, $"a {frame.Kind} frame does not belong on a node inbox");
                break;
        }
    }

    private void OnTether(Incoming msg, Frame frame)
    {
        switch (frame.Kind)
        {
            case FrameKind.End when frame.SenderNode is not null && frame.SenderId == 0 && !ControlCheck.Holds(frame, _proxy.NodeName):
                BadFrame(msg, "an End from outside any target without its check value (a damaged frame)");
                break;
            case FrameKind.End when frame.SenderNode is not null && frame.SenderId == 0:
                // From outside any target on the sending node (Node.End, Node.EndAsync): honoured as it is locally.
                _host.End(default, new Address(_proxy.NodeName, frame.RecipientId), frame.ErrorText ?? "ended remotely");
                break;
            case FrameKind.End or FrameKind.Renew when frame.SenderNode is null || frame.SenderId <= 0:
                BadFrame(msg, $"a {frame.Kind} frame must name the target that sends it");
                break;
            case FrameKind.End:
                Address target = new(_proxy.NodeName, frame.RecipientId);
                if (frame.Flag != 0)
                {
                    _host.OwnerEnded(frame.Sender, target);
                }
                else
                {
                    _host.End(frame.Sender, target, frame.ErrorText ?? "ended remotely");
                }

                break;
            default:
                _host.Renew(frame.Sender, new Address(_proxy.NodeName, frame.RecipientId));
                break;
        }
    }

    public void DeliverLocally(Incoming msg, Frame frame, int payloadAt, string? service = null)
    {
        if (frame.Contract is null || !_codecs.TryGetByName(frame.Contract, out PayloadCodec? codec))
        {
            BadFrame(msg, $"the contract \"{frame.Contract}\" is not registered on node {_proxy.NodeName}");
            return;
        }

        object? payload = Frame.ReadPayload(msg.Data, payloadAt, codec);
        if (payload is null || (service is null && frame.RecipientId <= 0))
        {
            BadFrame(msg, payload is null ? "the message is empty" : "the recipient id is not valid");
            return;
        }

        ReplySink? sink = null;
        if (frame.Kind == FrameKind.Request)
        {
            if (msg.ReplyTo is { } replyTo)
            {
                sink = new RemoteReplySink(_replies, replyTo, frame.Contract, frame.Sender);
            }
            else if (msg.CanAnswer)
            {
                sink = new RemoteReplySink(_replies, msg.Replies!, msg.Correlation, frame.Contract, frame.Sender);
            }
            else
            {
                BadFrame(msg, "a request without a reply subject");
                return;
            }
        }

        ActivityContext.TryParse(frame.TraceParent, null, out ActivityContext trace);
        MessageKind kind = frame.Kind switch
        {
            FrameKind.Request => MessageKind.Request,
            FrameKind.Event => MessageKind.Event,
            _ => MessageKind.Send,
        };
        if (service is not null)
        {
            TransportHost.Flush(ref t_deliveries);
            _host.DeliverToService(frame.Sender, service, payload, kind, sink, trace, frame.Session);
            return;
        }

        if (t_deliveries.Active)
        {
            if (t_from is { } from)
            {
                switch (_flow.Admit(ref t_deliveries, frame.RecipientId, sink is not null, from, ref t_roomId, ref t_room))
                {
                    case FlowControl.Admission.Park:
                        // The target's mailbox is full: the message waits here (not counted taken, so its sender runs
                        // out of credit), after the ones before it, which go first.
                        TransportHost.Flush(ref t_deliveries);
                        _flow.Park(frame.RecipientId, new FlowControl.Parked(from, frame.Sender) { Payload = payload, Kind = kind, Sink = sink, Trace = trace, Session = frame.Session });
                        return;
                    case FlowControl.Admission.Drop:
                        return; // counted, logged and reported to its sender
                    case FlowControl.Admission.Reject:
                        sink!.TryFail(new TetherException(ErrorCodes.MailboxFull, $"The mailbox of the target at {_proxy.NodeName}/{frame.RecipientId} is full and messages sent to it before wait on node {_proxy.NodeName}; {payload.GetType().Name} was rejected."));
                        return;
                }
            }

            // Unpacking a received message: consecutive messages for one target are posted to it together.
            _host.Deliver(ref t_deliveries, frame.Sender, frame.RecipientId, payload, kind, sink, trace, frame.Session);
            return;
        }

        _host.Deliver(frame.Sender, new Address(_proxy.NodeName, frame.RecipientId), payload, kind, sink, trace, frame.Session);
    }

    /// <summary>Checks the frame's size and reads its header; <paramref name="payloadAt"/> is where its payload starts in <c>msg.Data</c>.</summary>
    public bool TryOpen(Incoming msg, out Frame frame, out int payloadAt)
    {
        frame = default;
        payloadAt = 0;
        ReadOnlyMemory<byte> data = msg.Data;
        if (data.Length == 0)
        {
            BadFrame(msg, "the frame is empty");
            return false;
        }

        if (data.Length > _proxy.Options.MaxFrameBytes)
        {
            BadFrame(msg, $"the frame has {data.Length} bytes, more than the {_proxy.Options.MaxFrameBytes} allowed");
            return false;
        }

        try
        {
            payloadAt = Frame.DecodeHeader(data.Span, out frame, msg.Names);
            return true;
        }
        catch (WireException ex)
        {
            BadFrame(msg, ex.Message);
            return false;
        }
    }

    public void BadFrame(Incoming msg, string why)
    {
        long count = Interlocked.Increment(ref _badFrames);
        if ((count & (count - 1)) == 0)
        {
            LogBadFrame(_proxy.Logger, msg.Subject, why, count);
        }

        // Answer the sender when it left a way to answer (and is not itself one of our reply subjects).
        if (msg.CanAnswer && !msg.Subject.StartsWith(_proxy.Link.ReplyPrefix, StringComparison.Ordinal))
        {
            string text = $"Node {_proxy.NodeName} rejected a frame on {msg.Subject}: {why}.";
            if (msg.ReplyTo is { } replyTo)
            {
                _replies.SendError(replyTo, ErrorCodes.BadRequest, text);
            }
            else
            {
                _replies.SendError(msg.Replies!, msg.Correlation, null, ErrorCodes.BadRequest, text);
            }
        }
    }

    [LoggerMessage(2, LogLevel.Warning, "Rejected a frame on {Subject}: {Why} (bad frames so far: {Count})")]
    private static partial void LogBadFrame(ILogger logger, string subject, string why, long count);

    [LoggerMessage(6, LogLevel.Error, "Delivering the frames of a message on {Subject} to local targets failed; each was posted or answered")]
    private static partial void LogDeliveryFailed(ILogger logger, string subject, Exception error);
}
