using Tether.Transport;

namespace Tether.Nats.Internal;

/// <summary>
/// Watches across nodes over NATS: a <see cref="FrameKind.Watch"/> or <see cref="FrameKind.Unwatch"/> frame to the watched
/// target's node (the watching node in the sender-node field, the target in the recipient-id field), and an
/// <see cref="FrameKind.Ended"/> frame back to the watching node (the ended target as the sender, the reason as the error
/// text). All three go through the destination's node outbox, so they keep their order with the messages to that node:
/// the last messages a target sent reach the watching node before the report of its end. A watched node that is lost
/// fires its watches through <see cref="TransportHost.OwnerNodeLost"/>; one that says goodbye through
/// <see cref="TransportHost.NodeStopped"/>.
/// </summary>
/// <remarks>
/// Each of the three carries a check value in its flag field (<see cref="ControlCheck"/>): a damaged frame never
/// registers, removes or fires a watch. The frame kinds are new in this release: a node of an earlier release refuses them as unknown (counted as bad frames),
/// so a watch of a target on such a node fires only when that node is lost or stops.
/// </remarks>
internal sealed class NatsWatches(BrokerProxy proxy)
{
    private readonly BrokerProxy _proxy = proxy;

    public void Watch(Address target)
    {
        if (!BrokerOptions.IsToken(target.Node))
        {
            _proxy.NodeHost.TargetEnded(target, "no such target"); // no node has such a name
            return;
        }

        if (_proxy.Heartbeats.IsLost(target.Node))
        {
            _proxy.NodeHost.TargetEnded(target, $"node {target.Node} is unreachable");
            return;
        }

        Send(target.Node, Checked(new Frame { Kind = FrameKind.Watch, SenderNode = _proxy.NodeName, RecipientId = target.Id }, target.Node));
    }

    public void Unwatch(Address target)
        => Send(target.Node, Checked(new Frame { Kind = FrameKind.Unwatch, SenderNode = _proxy.NodeName, RecipientId = target.Id }, target.Node));

    public void ReportEnded(string watcherNode, Address target, string reason)
    {
        if (_proxy.Heartbeats.IsLost(watcherNode))
        {
            return; // nobody there to tell
        }

        Send(watcherNode, Checked(new Frame { Kind = FrameKind.Ended, SenderNode = _proxy.NodeName, SenderId = target.Id, ErrorText = reason }, watcherNode));
    }

    /// <summary>A watch frame arrived on this node's inbox.</summary>
    public void OnFrame(Incoming msg, Frame frame)
    {
        switch (frame.Kind)
        {
            case FrameKind.Watch or FrameKind.Unwatch when frame.SenderNode is null || frame.RecipientId <= 0:
                _proxy.Inbound.BadFrame(msg, $"a {frame.Kind} frame names the watching node and the watched target");
                break;
            case FrameKind.Ended when frame.SenderNode is null || frame.SenderId <= 0:
                _proxy.Inbound.BadFrame(msg, "an Ended frame names the target that ended");
                break;
            case FrameKind.Watch or FrameKind.Unwatch or FrameKind.Ended when !ControlCheck.Holds(frame, _proxy.NodeName):
                _proxy.Inbound.BadFrame(msg, $"a {frame.Kind} frame without its check value (a damaged frame)");
                break;
            case FrameKind.Watch:
                _proxy.NodeHost.Watch(frame.SenderNode!, new Address(_proxy.NodeName, frame.RecipientId));
                break;
            case FrameKind.Unwatch:
                _proxy.NodeHost.Unwatch(frame.SenderNode!, new Address(_proxy.NodeName, frame.RecipientId));
                break;
            default:
                _proxy.NodeHost.TargetEnded(new Address(frame.SenderNode!, frame.SenderId), frame.ErrorText ?? "ended");
                break;
        }
    }

    /// <summary>The frame with its check value (see <see cref="ControlCheck"/>), for node <paramref name="recipientNode"/>.</summary>
    private static Frame Checked(Frame frame, string recipientNode)
    {
        frame.Flag = ControlCheck.Of(frame.Kind, frame.SenderNode!, frame.SenderId, recipientNode, frame.RecipientId);
        return frame;
    }

    private void Send(string node, Frame frame)
    {
        if (!BrokerOptions.IsToken(node))
        {
            return; // no node has such a name: nothing to carry
        }

        Outbox outbox = _proxy.Outboxes.NodeOutbox(node);
        outbox.Append(frame, null, null, outbox.BatchSubject, null, 0, null);
    }
}
