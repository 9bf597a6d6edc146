using System.Diagnostics;

namespace Tether.Transport;

/// <summary>
/// What carries messages between nodes: the contract between a <see cref="Node"/> and a transport (the NATS broker proxy,
/// the in-memory network of tests). The node calls these members for everything addressed to another node; the
/// transport hands what arrives to the node through <see cref="Host"/>. Local traffic never reaches a transport.
/// </summary>
/// <remarks>
/// <para>
/// For transport authors, not for application code. A subclass is constructed for one node, calls <see cref="Attach"/>
/// once it can carry traffic and <see cref="Detach"/> when it stops; meanwhile the node calls the members below from
/// any thread, often from inside a target's handler (a <see cref="RunScope"/>), so they must be quick and never block.
/// </para>
/// <para>
/// The guarantees the node relies on: messages from one sender to one receiver arrive in the order they were handed
/// over; every request ends (its <see cref="ReplySink"/> gets exactly one outcome, an error when it cannot be carried,
/// <see cref="ErrorCodes.NodeUnreachable"/> soon after the node that holds it is lost); a session token and a trace
/// context reach the receiving mailbox with the message; a reply token inside a message stays answerable on the node
/// it reaches (<see cref="ReplySink.Of{T}"/>, <see cref="ReplySink.AsToken{T}"/>).
/// </para>
/// </remarks>
public abstract class RemoteTransport
{
    /// <summary>Creates the transport of <paramref name="node"/> (not attached yet).</summary>
    /// <param name="node">The node it carries messages for.</param>
    protected RemoteTransport(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        Host = new TransportHost(node);
    }

    /// <summary>The node's side of the seam: where messages from other nodes enter.</summary>
    protected TransportHost Host { get; }

    /// <summary>Whether <paramref name="node"/> already has a transport attached.</summary>
    /// <param name="node">The node.</param>
    /// <returns>True when one is attached.</returns>
    public static bool IsAttachedTo(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.Remote is not null;
    }

    /// <summary>From now on the node hands this transport everything for other nodes.</summary>
    /// <exception cref="InvalidOperationException">The node already has another transport.</exception>
    protected void Attach()
    {
        Node node = Host.Node;
        if (Interlocked.CompareExchange(ref node.RemoteSlot, this, null) is { } other && other != this)
        {
            throw new InvalidOperationException($"Node {node.Name} already has a remote transport ({other.GetType().Name}).");
        }
    }

    /// <summary>The node stops handing this transport anything: remote traffic fails as for an embedded node.</summary>
    /// <returns>True when it was attached.</returns>
    protected bool Detach() => Interlocked.CompareExchange(ref Host.Node.RemoteSlot, null, this) == this;

    /// <summary>Delivers to a target on another node (<paramref name="to"/> names it).</summary>
    /// <param name="sender">The sending target, or <see cref="Address.None"/> from outside any target.</param>
    /// <param name="to">The recipient, on another node.</param>
    /// <param name="message">The message.</param>
    /// <param name="kind">Send, request or event.</param>
    /// <param name="reply">For a request, where its outcome goes: a failure to deliver fails it. Null otherwise.</param>
    /// <param name="trace">The trace context to carry (default: none).</param>
    /// <param name="session">The session token to carry, or null; it must reach the receiving mailbox.</param>
    protected internal abstract void Deliver(Address sender, Address to, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session);

    /// <summary>Delivers to one instance of <paramref name="service"/> on another node (no local instance exists).</summary>
    /// <param name="sender">The sending target, or <see cref="Address.None"/>.</param>
    /// <param name="service">The service's name.</param>
    /// <param name="message">The message.</param>
    /// <param name="kind">Send, request or event.</param>
    /// <param name="reply">For a request, where its outcome goes (<see cref="ErrorCodes.NoSuchService"/> when no node serves it).</param>
    /// <param name="trace">The trace context to carry.</param>
    /// <param name="session">The session token to carry, or null.</param>
    protected internal abstract void DeliverToService(Address sender, string service, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session);

    /// <summary>Asks some node that serves the factory <paramref name="service"/> for an instance owned by <paramref name="owner"/>.</summary>
    /// <param name="owner">The owner (on this node), or <see cref="Address.None"/>.</param>
    /// <param name="service">The factory's name.</param>
    /// <param name="argument">The creator's argument, or null.</param>
    /// <param name="tether">How the instance is tied to its owner.</param>
    /// <param name="timeout">The deadline of the creation.</param>
    /// <returns>The instance's address; fails with <see cref="ErrorCodes.NoSuchService"/> when no node serves the factory.</returns>
    protected internal abstract ValueTask<Address> Create(Address owner, string service, object? argument, TetherPolicy tether, TimeSpan timeout);

    /// <summary>
    /// Ends a target on another node on behalf of <paramref name="requestedBy"/>, in order after the messages sent to it
    /// before. With <paramref name="ownerEnded"/>, the owner itself ended and the instance's tether policy decides
    /// (<see cref="TransportHost.OwnerEnded"/> on the other side; <see cref="TransportHost.End"/> otherwise).
    /// </summary>
    /// <param name="requestedBy">Who asks.</param>
    /// <param name="target">The target to end.</param>
    /// <param name="reason">Why (logged and given to the target).</param>
    /// <param name="ownerEnded">True when its owner ended.</param>
    protected internal abstract void End(Address requestedBy, Address target, string reason, bool ownerEnded);

    /// <summary>
    /// Asks the node of <paramref name="target"/> to report once when that target ends (<see cref="TransportHost.Watch"/>
    /// on its side, which answers with <see cref="ReportEnded"/>; the report enters here through
    /// <see cref="TransportHost.TargetEnded"/>). The node calls it once per watched target however many local watchers it
    /// has, and <see cref="Unwatch"/> when the last one leaves, in that order per target: carry both in order with the
    /// messages to that node. When the target's node cannot be reached, call <see cref="TransportHost.TargetEnded"/> at
    /// once (a reason such as "node X is unreachable"); when it is lost later, <see cref="TransportHost.OwnerNodeLost"/>
    /// fires the watch.
    /// </summary>
    /// <param name="target">The watched target, on another node.</param>
    protected internal abstract void Watch(Address target);

    /// <summary>The node no longer watches <paramref name="target"/> (<see cref="TransportHost.Unwatch"/> on its side); a report already under way is ignored.</summary>
    /// <param name="target">The target, on another node.</param>
    protected internal abstract void Unwatch(Address target);

    /// <summary>
    /// Tells <paramref name="watcherNode"/> that <paramref name="target"/>, a target of this node that it watches, ended
    /// (<see cref="TransportHost.TargetEnded"/> on its side). Carry it in order after the messages this node sent there
    /// before (what the target sent in its last turn arrives first); a node that cannot be reached needs no report.
    /// </summary>
    /// <param name="watcherNode">The watching node.</param>
    /// <param name="target">The target that ended, on this node.</param>
    /// <param name="reason">Why, in words.</param>
    protected internal abstract void ReportEnded(string watcherNode, Address target, string reason);

    /// <summary>Renews the lease of an instance on another node (<see cref="TransportHost.Renew"/> on the other side).</summary>
    /// <param name="requestedBy">The owner.</param>
    /// <param name="instance">The instance.</param>
    protected internal abstract void Renew(Address requestedBy, Address instance);

    /// <summary>A factory was registered on this node: serve it to the other nodes too (they create through <see cref="TransportHost.CreateLocal"/>).</summary>
    /// <param name="service">The factory's name.</param>
    protected internal abstract void FactoryRegistered(string service);

    /// <summary>This node's service instances changed (<see cref="TransportHost.LocalServices"/>): make them reachable from other nodes.</summary>
    protected internal abstract void ServicesChanged();

    /// <summary>
    /// A local target subscribed to <paramref name="topic"/>. On the <paramref name="first"/> local subscription, receive
    /// other nodes' events for it (<see cref="TransportHost.PublishLocal"/>); a transport that keeps a topic's latest event
    /// may hand it to <paramref name="subscriber"/>.
    /// </summary>
    /// <param name="topic">The topic.</param>
    /// <param name="subscriber">The local subscriber.</param>
    /// <param name="first">True for the first local subscription to the topic.</param>
    protected internal abstract void TopicSubscribed(string topic, Address subscriber, bool first);

    /// <summary>Publishes an event to the other nodes' subscribers of a topic (the local ones already have it).</summary>
    /// <param name="sender">The publishing target, or <see cref="Address.None"/>.</param>
    /// <param name="topic">The topic.</param>
    /// <param name="event">The event.</param>
    /// <param name="trace">The trace context to carry.</param>
    /// <exception cref="TetherException">The event cannot cross nodes (an unregistered contract, a name the transport cannot carry).</exception>
    protected internal abstract void Publish(Address sender, string topic, object @event, ActivityContext trace);
}
