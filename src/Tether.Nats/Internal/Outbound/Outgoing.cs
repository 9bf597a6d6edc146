using System.Diagnostics;
using Tether.Transport;

namespace Tether.Nats.Internal;

/// <summary>
/// Messages to other nodes: each encoded as a frame and handed to its destination's outbox (or published alone to a
/// service's queue group), requests registered with <see cref="Replies"/>, reply tokens inside messages given a reply
/// subject; ends and lease renewals in order behind the messages before them.
/// </summary>
internal sealed class Outgoing(BrokerProxy proxy)
{
    [ThreadStatic]
    private static string? t_sendingTo; // the node a frame being encoded on this thread goes to (null: a queue group)

    [ThreadStatic]
    private static List<(string ReplyTo, int Hop)>? t_relayed; // other nodes' requesters whose tokens the frame being encoded carries on

    private readonly BrokerProxy _proxy = proxy;

    // The parts every frame sent goes through, read once (they are made before this one).
    private readonly Outboxes _outboxes = proxy.Outboxes;
    private readonly Replies _replies = proxy.Replies;
    private readonly PendingTable _pending = proxy.Replies.Pending;
    private readonly Heartbeats _heartbeats = proxy.Heartbeats;
    private readonly PayloadCodecs _codecs = proxy.Codecs;

    /// <summary>The reply subject for a reply obligation that leaves this node inside a message (a forwarded reply token).</summary>
    public string ReplySubjectFor(ReplySink sink)
    {
        if (sink is RemoteReplySink remote)
        {
            if (t_sendingTo is not null)
            {
                // Relayed on (A -> this node -> another): once the message is out, the requester is told who holds its
                // answer now, so it watches that node instead of this one.
                (t_relayed ??= []).Add((remote.ReplyTo, remote.Hops + 1));
            }

            return remote.ReplyTo; // already answered over the wire: pass the requester's subject on
        }

        if (!sink.ExpectsAnswer)
        {
            return _proxy.Link.ReplyPrefix + "0"; // nobody waits: answers to correlation 0 are dropped on arrival
        }

        long correlation = _replies.NextCorrelation();

        // The node the message carrying the token goes to holds the obligation: if it is lost, so is the answer.
        string destination = t_sendingTo is { } node ? $"node {node}" : "a forwarded reply token";
        _pending[correlation] = new PendingRemote(sink, destination, null, default);
        return _proxy.Link.ReplyPrefix + correlation;
    }

    public void Deliver(Address sender, Address to, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session)
    {
        if (_heartbeats.IsLost(to.Node))
        {
            reply?.TryFail(_heartbeats.Gone(to.Node, $"{message.GetType().Name} could not be delivered to {to}"));
            return;
        }

        Outbox outbox = _outboxes.NodeOutbox(to.Node);
        SendMessage(sender, outbox, outbox.BatchSubject, to.Id, message, kind, reply, trace, session, outbox.Destination, null, default, to.Node);
    }

    public void DeliverToService(Address sender, string service, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session)
    {
        if (_proxy.Router.Choose(service) is { } instance && !_heartbeats.IsLost(instance.Node))
        {
            Outbox outbox = _outboxes.NodeOutbox(instance.Node);
            SendMessage(sender, outbox, outbox.BatchSubject, instance.Id, message, kind, reply, trace, session, outbox.Destination, service, instance, instance.Node);
            return;
        }

        if (!BrokerOptions.IsToken(service))
        {
            reply?.TryFail(new TetherException(ErrorCodes.BadRequest, $"The service name \"{service}\" cannot be used over NATS: use letters, digits, '-' and '_' only."));
            return;
        }

        // No instance known: any node serving it takes it through the service's queue group (one frame per NATS
        // message: the server's "no responders" must reach this very request).
        SendMessage(sender, null, $"{_proxy.Link.Prefix}.svc.{service}", 0, message, kind, reply, trace, session, $"service {service}", service, default, null);
    }

    private void SendMessage(Address sender, Outbox? outbox, string subject, long recipient, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session, string destination, string? service, Address instance, string? node)
    {
        string? outer = t_sendingTo;
        int relayedBefore = t_relayed?.Count ?? 0;
        bool left = false;
        t_sendingTo = node; // read by ReplySubjectFor when a reply token in the payload is encoded
        try
        {
            left = Encode(sender, outbox, subject, recipient, message, kind, reply, trace, session, destination, service, instance, node);
        }
        finally
        {
            t_sendingTo = outer;
            if (t_relayed is { } relayed && relayed.Count > relayedBefore)
            {
                (string ReplyTo, int Hop)[] requesters = left ? relayed.GetRange(relayedBefore, relayed.Count - relayedBefore).ToArray() : [];
                relayed.RemoveRange(relayedBefore, relayed.Count - relayedBefore); // also when the frame was refused or failed
                foreach ((string replyTo, int hop) in requesters)
                {
                    _replies.SendAccepted(replyTo, node!, hop); // the requester of a relayed token watches the node it went to
                }
            }
        }
    }

    /// <summary>Encodes and sends (or queues) one frame; false when it did not leave (refused, or its node was lost meanwhile).</summary>
    private bool Encode(Address sender, Outbox? outbox, string subject, long recipient, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session, string destination, string? service, Address instance, string? node)
    {
        Type type = message.GetType();
        if (!_codecs.TryGetByType(type, out PayloadCodec? codec))
        {
            Refuse(reply, $"{type.Name} is not a registered contract (BrokerOptions.Contracts.Register<{type.Name}>(name)), so it cannot leave node {_proxy.NodeName}");
            return false;
        }

        if (session is not null && session.Length > Frame.MaxSessionBytes / 3 && System.Text.Encoding.UTF8.GetByteCount(session) > Frame.MaxSessionBytes)
        {
            Refuse(reply, $"the session token of {type.Name} has {System.Text.Encoding.UTF8.GetByteCount(session)} bytes, more than the {Frame.MaxSessionBytes} a frame carries");
            return false;
        }

        Frame frame = new()
        {
            Kind = kind switch
            {
                MessageKind.Request => FrameKind.Request,
                MessageKind.Event => FrameKind.Event,
                _ => FrameKind.Send,
            },
            SenderNode = sender.Node,
            SenderNodeEncoded = ReferenceEquals(sender.Node, _proxy.NodeName) ? _proxy.NodeNameEncoded : null,
            SenderId = sender.Id,
            RecipientId = recipient,
            Contract = codec.Contract,
            ContractEncoded = codec.ContractEncoded,
            TraceParent = trace == default ? null : FormatTrace(trace),
            Session = session,
        };

        byte[]? bytes = null;
        if (outbox is null)
        {
            bytes = frame.Encode(codec, message);
            if (bytes.Length > _proxy.Options.MaxFrameBytes)
            {
                Refuse(reply, $"{type.Name} takes {bytes.Length} bytes on the wire, more than BrokerOptions.MaxFrameBytes ({_proxy.Options.MaxFrameBytes})");
                return false;
            }
        }

        long correlation = 0;
        string? replyTo = null;
        PendingRemote? pending = null;
        if (reply is not null)
        {
            correlation = _replies.NextCorrelation();
            _pending[correlation] = pending = new PendingRemote(reply, destination, service, instance);

            // Through an outbox the frame carries no reply subject: in a batch the correlation says it, and a lone
            // frame's reply subject is made when it is published.
            replyTo = outbox is null ? _proxy.Link.ReplyPrefix + correlation.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
            if (node is not null && _heartbeats.IsLost(node) && _pending.TryRemove(correlation, out _))
            {
                // Lost between the check and the registration: fail now rather than at the deadline.
                reply.TryFail(_heartbeats.Gone(node, reply.Describe()));
                return false;
            }
        }

        if (bytes is not null)
        {
            _proxy.Link.Publish(subject, bytes, replyTo, correlation);
            return true;
        }

        int refused;
        try
        {
            refused = outbox!.Append(frame, codec, message, subject, replyTo, correlation, pending);
        }
        catch
        {
            _pending.TryRemove(correlation, out _);
            throw;
        }

        if (refused < 0)
        {
            // More than BrokerOptions.MaxPendingBytesPerNode waits for that node: it takes messages slower than they come.
            _pending.TryRemove(correlation, out _);
            Address to = new(node!, recipient);
            if (reply is null)
            {
                _proxy.Flow.DroppedHere(to, type.Name, outbox!.QueuedBytes);
            }
            else
            {
                reply.TryFail(new TetherException(ErrorCodes.MailboxFull, $"{reply.Describe()}: node {node} takes messages slower than they are sent; more than BrokerOptions.MaxPendingBytesPerNode ({_proxy.Options.MaxPendingBytesPerNode} bytes) already waits for it here."));
            }

            return false;
        }

        if (refused > 0)
        {
            _pending.TryRemove(correlation, out _);
            Refuse(reply, $"{type.Name} takes {refused} bytes on the wire, more than BrokerOptions.MaxFrameBytes ({_proxy.Options.MaxFrameBytes})");
            return false;
        }

        return true;
    }

    private static void Refuse(ReplySink? reply, string why)
    {
        if (reply is null)
        {
            throw new TetherException(ErrorCodes.BadRequest, why + ".");
        }

        reply.TryFail(new TetherException(ErrorCodes.BadRequest, why + "."));
    }

    public void End(Address requestedBy, Address target, string reason, bool ownerEnded)
    {
        string sender = requestedBy.IsNone ? _proxy.NodeName : requestedBy.Node; // id 0: from outside any target
        Frame frame = new()
        {
            Kind = FrameKind.End,
            SenderNode = sender,
            SenderId = requestedBy.Id,
            RecipientId = target.Id,
            ErrorText = reason,

            // From outside a target nothing names an owner to check: the frame carries a check value instead (see ControlCheck).
            Flag = requestedBy.Id == 0 ? ControlCheck.Of(FrameKind.End, sender, 0, target.Node, target.Id) : ownerEnded ? 1 : 0,
        };
        Outbox outbox = _outboxes.NodeOutbox(target.Node);
        outbox.Append(frame, null, null, outbox.BatchSubject, null, 0, null);
    }

    public void Renew(Address requestedBy, Address instance)
    {
        Frame frame = new() { Kind = FrameKind.Renew, SenderNode = requestedBy.Node, SenderId = requestedBy.Id, RecipientId = instance.Id };
        Outbox outbox = _outboxes.NodeOutbox(instance.Node);
        outbox.Append(frame, null, null, outbox.BatchSubject, null, 0, null);
    }

    public static string FormatTrace(ActivityContext trace)
        => $"00-{trace.TraceId.ToHexString()}-{trace.SpanId.ToHexString()}-{(trace.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? "01" : "00")}";
}
