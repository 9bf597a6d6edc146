using System.Diagnostics;
using Tether.Internal;

namespace Tether.Transport;

/// <summary>
/// The node as its transport sees it: where messages from other nodes enter (one at a time, or as a
/// <see cref="DeliveryRun"/> while a batch is unpacked), and what the transport needs to know of the node (its
/// services, factories, topics) or to ask of it (end, renew, create an instance for an owner on another node).
/// </summary>
/// <remarks>For transport authors (see <see cref="RemoteTransport"/>); a transport gets its node's host from its base class.</remarks>
public sealed class TransportHost
{
    private readonly Node _node;

    internal TransportHost(Node node) => _node = node;

    /// <summary>
    /// Makes the node's next local ids start at <paramref name="firstId"/> at least (ids already given out stay). A
    /// transport that joins nodes across processes gives each incarnation of a node name its own range, so an address of
    /// an earlier process under the same name never names a target of this one (it gets <see cref="ErrorCodes.NoSuchTarget"/>).
    /// </summary>
    public void StartLocalIdsAt(long firstId) => _node.StartLocalIdsAt(firstId);

    /// <summary>The node.</summary>
    public Node Node => _node;

    /// <summary>The node's name: the first part of its addresses.</summary>
    public string NodeName => _node.Name;

    /// <summary>The node's clock.</summary>
    public TimeProvider TimeProvider => _node.TimeProvider;

    /// <summary>The names of the factories registered on the node.</summary>
    public IEnumerable<string> FactoryNames => _node.FactoryNames;

    /// <summary>The topics with at least one local subscriber.</summary>
    public IEnumerable<string> ActiveTopics => _node.Topics.Active;

    /// <summary>The services with at least one instance on the node, and their instances.</summary>
    /// <returns>A snapshot.</returns>
    public IReadOnlyDictionary<string, Address[]> LocalServices() => _node.LocalServices();

    /// <summary>
    /// Delivers a message that came from another node to <paramref name="to"/>, a target of this node (an address of
    /// another node is handed back to the transport). A request's <paramref name="reply"/> gets an error when no live
    /// target has the address.
    /// </summary>
    /// <param name="sender">Who sent it.</param>
    /// <param name="to">The recipient.</param>
    /// <param name="message">The message.</param>
    /// <param name="kind">Send, request or event.</param>
    /// <param name="reply">For a request, the way its answer goes back.</param>
    /// <param name="trace">The trace context it carried.</param>
    /// <param name="session">The session token it carried, or null.</param>
    public void Deliver(Address sender, Address to, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session)
        => _node.Deliver(sender, to, message, (Category)kind, reply, trace, session);

    /// <summary>
    /// Delivers to the target <paramref name="id"/> of this node as part of <paramref name="run"/>: consecutive messages
    /// for one target wait in the run and are posted together, at most <see cref="DeliveryRun.MaxCount"/> at a time,
    /// when the target changes or at <see cref="Flush"/>. The caller flushes before anything else that must keep its
    /// order after them (an end, a service delivery) and when its batch ends.
    /// </summary>
    /// <param name="run">The run of the thread unpacking.</param>
    /// <param name="sender">Who sent it.</param>
    /// <param name="id">The local id of the recipient.</param>
    /// <param name="message">The message.</param>
    /// <param name="kind">Send, request or event.</param>
    /// <param name="reply">For a request, the way its answer goes back.</param>
    /// <param name="trace">The trace context it carried.</param>
    /// <param name="session">The session token it carried, or null.</param>
    public void Deliver(ref DeliveryRun run, Address sender, long id, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session)
        => _node.Deliver(ref run, sender, id, message, (Category)kind, reply, trace, session);

    /// <summary>
    /// How many more messages the mailbox of the target <paramref name="id"/> of this node takes now, less those already
    /// waiting for it in <paramref name="run"/>: a transport that holds messages back while a mailbox is full (flow
    /// control) asks before it delivers. Another sender may fill the room meanwhile, so it is a hint, not a reservation.
    /// </summary>
    /// <param name="run">The run of the thread unpacking (<c>default</c> outside one).</param>
    /// <param name="id">The local id of the target.</param>
    /// <returns>The free room (0 or less when full); <see cref="int.MaxValue"/> when no live target has the id.</returns>
    public int MailboxRoom(ref DeliveryRun run, long id) => _node.MailboxRoom(ref run, id);

    /// <summary>Posts what waits in <paramref name="run"/>; the run is empty after it.</summary>
    /// <param name="run">The run.</param>
    /// <exception cref="Exception">Answering a refused request threw (every message of the run was still posted or answered).</exception>
    public static void Flush(ref DeliveryRun run) => Node.Flush(ref run);

    /// <summary>Delivers to one local instance of <paramref name="service"/> (never back out to another node).</summary>
    /// <param name="sender">Who sent it.</param>
    /// <param name="service">The service.</param>
    /// <param name="message">The message.</param>
    /// <param name="kind">Send, request or event.</param>
    /// <param name="reply">For a request, the way its answer goes back (<see cref="ErrorCodes.NoSuchService"/> when no instance is here).</param>
    /// <param name="trace">The trace context it carried.</param>
    /// <param name="session">The session token it carried, or null.</param>
    public void DeliverToService(Address sender, string service, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session)
        => _node.DeliverToService(sender, service, message, (Category)kind, reply, trace, localOnly: true, session);

    /// <summary>Hands an event from another node to this node's subscribers of <paramref name="topic"/>.</summary>
    /// <param name="sender">Who published it.</param>
    /// <param name="topic">The topic.</param>
    /// <param name="event">The event.</param>
    /// <param name="trace">The trace context it carried.</param>
    /// <returns>How many local subscribers it reached.</returns>
    public int PublishLocal(Address sender, string topic, object @event, ActivityContext trace)
        => _node.Topics.PublishLocal(sender, topic, @event, trace);

    /// <summary>Ends a local target on behalf of <paramref name="requestedBy"/> (honoured for its owner or itself).</summary>
    /// <param name="requestedBy">Who asks.</param>
    /// <param name="target">The target.</param>
    /// <param name="reason">Why.</param>
    public void End(Address requestedBy, Address target, string reason) => _node.End(requestedBy, target, reason);

    /// <summary>The owner <paramref name="owner"/> (on another node) ended: ends its local instance if the tether says so.</summary>
    /// <param name="owner">The owner.</param>
    /// <param name="instance">The instance, on this node.</param>
    public void OwnerEnded(Address owner, Address instance) => _node.RemoteOwnerEnded(owner, instance);

    /// <summary>Renews the lease of a local instance (honoured for its owner only).</summary>
    /// <param name="requestedBy">Who asks.</param>
    /// <param name="instance">The instance.</param>
    public void Renew(Address requestedBy, Address instance) => _node.Renew(requestedBy, instance);

    /// <summary>Creates an instance from a local factory for an owner that may live on another node.</summary>
    /// <param name="owner">The owner.</param>
    /// <param name="service">The factory's name.</param>
    /// <param name="argument">The creator's argument.</param>
    /// <param name="tether">How the instance is tied to its owner.</param>
    /// <param name="timeout">The deadline (null: the node's default).</param>
    /// <returns>The instance's address.</returns>
    public ValueTask<Address> CreateLocal(Address owner, string service, object? argument, TetherPolicy tether, TimeSpan? timeout)
        => _node.CreateLocal(owner, service, argument, tether, timeout);

    /// <summary>
    /// The node <paramref name="node"/> is lost (unreachable, or gone): every local instance whose owner lives there and
    /// whose tether says so ends, and every watch of a target there fires with the reason "node X is unreachable". The
    /// transport fails its own requests pending there.
    /// </summary>
    /// <param name="node">The lost node's name.</param>
    /// <returns>How many instances end.</returns>
    public int OwnerNodeLost(string node) => _node.OwnerNodeLost(node);

    /// <summary>
    /// The node <paramref name="node"/> said goodbye (a clean stop): every watch of a target there fires with the reason
    /// "node X stopped". Call it before <see cref="OwnerNodeLost"/>, which a transport calls for a node that left either way.
    /// </summary>
    /// <param name="node">The stopped node's name.</param>
    /// <returns>How many watched targets it concerned.</returns>
    public int NodeStopped(string node) => _node.WatchedNodeStopped(node);

    /// <summary>
    /// The node <paramref name="watcherNode"/> watches <paramref name="target"/>, a target of this node
    /// (<see cref="RemoteTransport.Watch"/> on its side): when the target ends, for whatever reason, this node calls
    /// <see cref="RemoteTransport.ReportEnded"/> once for that node; at once when no live target has the address.
    /// </summary>
    /// <param name="watcherNode">The watching node's name.</param>
    /// <param name="target">The watched target, on this node.</param>
    public void Watch(string watcherNode, Address target)
    {
        ArgumentException.ThrowIfNullOrEmpty(watcherNode);
        _node.WatchedFrom(watcherNode, target);
    }

    /// <summary>The node <paramref name="watcherNode"/> no longer watches <paramref name="target"/> (<see cref="RemoteTransport.Unwatch"/> on its side).</summary>
    /// <param name="watcherNode">The watching node's name.</param>
    /// <param name="target">The watched target, on this node.</param>
    public void Unwatch(string watcherNode, Address target)
    {
        ArgumentException.ThrowIfNullOrEmpty(watcherNode);
        _node.UnwatchedFrom(watcherNode, target);
    }

    /// <summary>
    /// <paramref name="target"/>, on another node, which this node watches, ended (<see cref="RemoteTransport.ReportEnded"/>
    /// on its node): each local watcher receives <see cref="TargetEnded"/> once, each <see cref="Node.EndAsync"/> completes.
    /// A report nobody here waits for (unwatched meanwhile, or already told) is ignored.
    /// </summary>
    /// <param name="target">The target that ended.</param>
    /// <param name="reason">Why, in words.</param>
    public void TargetEnded(Address target, string reason) => _node.RemoteTargetEnded(target, reason ?? "ended");

    /// <summary>
    /// A request the transport itself makes on the node's behalf (a remote create): a sink to complete when its answer
    /// comes, registered with the node's deadlines, so it fails with <see cref="ErrorCodes.Timeout"/> if none comes in time.
    /// </summary>
    /// <typeparam name="T">The answer's type.</typeparam>
    /// <param name="requestType">Names the request in error texts.</param>
    /// <param name="service">The service it goes to (named in error texts).</param>
    /// <param name="timeout">Its deadline.</param>
    /// <param name="sink">Where its outcome goes.</param>
    /// <returns>The outcome.</returns>
    public ValueTask<T> NewRequest<T>(Type requestType, string service, TimeSpan timeout, out ReplySink sink)
    {
        ArgumentNullException.ThrowIfNull(requestType);
        var pending = new PendingRequest<T>(_node, requestType, default, timeout, service);
        _node.Deadlines.Add(pending);
        sink = pending;
        return pending.Task;
    }
}
