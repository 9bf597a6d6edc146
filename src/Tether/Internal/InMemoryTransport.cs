using System.Collections.Concurrent;
using System.Diagnostics;

namespace Tether.Internal;

/// <summary>One node's side of an <see cref="InMemoryNetwork"/>: hands each message to the receiving node's <see cref="TransportHost"/> on the caller's thread.</summary>
internal sealed class InMemoryTransport : RemoteTransport
{
    private readonly InMemoryNetwork _network;
    private readonly ConcurrentDictionary<InMemoryReply, byte> _sent = new(); // requests this node sent that another node holds
    private int _sentSinceSweep;
    private volatile bool _left;

    public InMemoryTransport(InMemoryNetwork network, Node node)
        : base(node)
    {
        _network = network;
        Name = node.Name;
    }

    public string Name { get; }

    public new TransportHost Host => base.Host;

    public bool Left => _left;

    public void Join() => Attach();

    public void MarkLeft() => _left = true;

    /// <summary><paramref name="peer"/> is unreachable from here: fail what it holds of ours, end what it owned here.</summary>
    public void PeerLost(string peer)
    {
        foreach (InMemoryReply reply in _sent.Keys)
        {
            if (reply.Holder == peer)
            {
                reply.TryFail(new TetherException(ErrorCodes.NodeUnreachable, $"{reply.Describe()}: node {peer} is unreachable (it left the network)."));
            }
        }

        Host.OwnerNodeLost(peer);
    }

    public void Forget(InMemoryReply reply) => _sent.TryRemove(reply, out _);

    protected internal override void Deliver(Address sender, Address to, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session)
    {
        if (Reach(to.Node, message, reply) is { } peer)
        {
            peer.Host.Deliver(sender, new Address(to.Node, to.Id), message, kind, Track(reply, peer), trace, session);
        }
    }

    protected internal override void DeliverToService(Address sender, string service, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session)
    {
        if (_left)
        {
            reply?.TryFail(Unreachable(message, $"service {service}", Name));
            return;
        }

        if (_network.ServiceMember(service, this) is not { } peer)
        {
            reply?.TryFail(new TetherException(ErrorCodes.NoSuchService, $"{message.GetType().Name} could not be delivered: no node in the network serves \"{service}\"."));
            return;
        }

        peer.Host.DeliverToService(sender, service, message, kind, Track(reply, peer), trace, session);
    }

    protected internal override ValueTask<Address> Create(Address owner, string service, object? argument, TetherPolicy tether, TimeSpan timeout)
    {
        if (_left)
        {
            return ValueTask.FromException<Address>(new TetherException(ErrorCodes.NodeUnreachable, $"No instance of {service} was created: node {Name} has left the network."));
        }

        if (_network.FactoryMember(service, this) is not { } peer)
        {
            return ValueTask.FromException<Address>(new TetherException(ErrorCodes.NoSuchService, $"No node in the network serves the factory \"{service}\"."));
        }

        ValueTask<Address> outcome = Host.NewRequest<Address>(typeof(CreateInstance), service, timeout, out ReplySink sink);
        _ = CreateOn(peer, Track(sink, peer)!, owner, service, argument, tether, timeout);
        return outcome;
    }

    protected internal override void End(Address requestedBy, Address target, string reason, bool ownerEnded)
    {
        if (Reach(target.Node, null, null) is not { } peer)
        {
            return;
        }

        Address local = new(target.Node, target.Id);
        if (ownerEnded)
        {
            peer.Host.OwnerEnded(requestedBy, local);
        }
        else
        {
            peer.Host.End(requestedBy, local, reason);
        }
    }

    protected internal override void Watch(Address target)
    {
        if (Reach(target.Node, null, null) is { } peer)
        {
            peer.Host.Watch(Name, new Address(target.Node, target.Id));
        }
        else
        {
            Host.TargetEnded(target, $"node {target.Node} is unreachable");
        }
    }

    protected internal override void Unwatch(Address target) => Reach(target.Node, null, null)?.Host.Unwatch(Name, new Address(target.Node, target.Id));

    protected internal override void ReportEnded(string watcherNode, Address target, string reason)
        => Reach(watcherNode, null, null)?.Host.TargetEnded(new Address(target.Node, target.Id), reason);

    protected internal override void Renew(Address requestedBy, Address instance)
    {
        if (Reach(instance.Node, null, null) is { } peer)
        {
            peer.Host.Renew(requestedBy, new Address(instance.Node, instance.Id));
        }
    }

    protected internal override void FactoryRegistered(string service) => _network.Update(this);

    protected internal override void ServicesChanged() => _network.Update(this);

    protected internal override void TopicSubscribed(string topic, Address subscriber, bool first)
    {
        // Every member gets every event (a node without subscribers takes none): nothing to set up.
    }

    protected internal override void Publish(Address sender, string topic, object @event, ActivityContext trace)
    {
        if (_left)
        {
            return;
        }

        foreach (InMemoryTransport peer in _network.Members)
        {
            if (peer != this && !peer.Left)
            {
                peer.Host.PublishLocal(sender, topic, @event, trace);
            }
        }
    }

    /// <summary>The member hosting <paramref name="node"/>; null (and the request failed) when it cannot be reached.</summary>
    private InMemoryTransport? Reach(string node, object? message, ReplySink? reply)
    {
        InMemoryTransport? peer = _left ? null : _network.Member(node);
        if (peer is null or { Left: true })
        {
            reply?.TryFail(Unreachable(message!, $"a target on node {node}", _left ? Name : node));
            return null;
        }

        return peer;
    }

    private TetherException Unreachable(object message, string destination, string node)
        => new(ErrorCodes.NodeUnreachable, node == Name
            ? $"{message.GetType().Name} could not be delivered to {destination}: node {Name} has left the network."
            : $"{message.GetType().Name} could not be delivered to {destination}: node {node} is unreachable (not in the network).");

    /// <summary>Watches a request while <paramref name="holder"/> has it, so it fails at once if that node is lost.</summary>
    private InMemoryReply? Track(ReplySink? reply, InMemoryTransport holder)
    {
        if (reply is null)
        {
            return null;
        }

        var tracked = new InMemoryReply(reply, this, holder.Name);
        _sent.TryAdd(tracked, 0);
        if (Interlocked.Increment(ref _sentSinceSweep) % 1024 == 0)
        {
            // Requests that ended by their deadline never completed the wrapper: drop them now and then.
            foreach (InMemoryReply old in _sent.Keys)
            {
                if (old.Inner.IsCompleted)
                {
                    _sent.TryRemove(old, out _);
                }
            }
        }

        return tracked;
    }

    private static async Task CreateOn(InMemoryTransport peer, InMemoryReply reply, Address owner, string service, object? argument, TetherPolicy tether, TimeSpan timeout)
    {
        Address instance;
        try
        {
            instance = await peer.Host.CreateLocal(owner, service, argument, tether, timeout).ConfigureAwait(false);
        }
        catch (TetherException ex)
        {
            reply.TryFail(ex);
            return;
        }

        if (!reply.TryComplete(new Address(instance.Node, instance.Id)))
        {
            // The creator stopped waiting (deadline, or this node was lost): nobody owns the instance.
            peer.Host.End(default, instance, "its creator stopped waiting");
        }
    }
}
