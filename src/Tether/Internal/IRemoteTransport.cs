using System.Diagnostics;

namespace Tether.Internal;

/// <summary>
/// Carries messages for addresses on other nodes (the broker proxy). The core knows nothing of the network:
/// local traffic never reaches this interface.
/// </summary>
internal interface IRemoteTransport
{
    /// <summary>Delivers to a target on another node. A failure to deliver a request fails its <paramref name="reply"/>.</summary>
    /// <paramref name="session"/> is the session token the message carries (null for none); it must reach the receiving mailbox.
    void Deliver(Address sender, Address to, object message, Category category, ReplySink? reply, ActivityContext trace, string? session);

    /// <summary>Asks some node that serves the factory <paramref name="service"/> for an instance; null when the transport knows no such service.</summary>
    ValueTask<Address> Create(Address owner, string service, object? argument, TetherPolicy tether, TimeSpan timeout);

    /// <summary>
    /// Ends a target on another node, on behalf of <paramref name="requestedBy"/>. With <paramref name="ownerEnded"/>
    /// the owner itself ended, and the instance's tether policy decides.
    /// </summary>
    void End(Address requestedBy, Address target, string reason, bool ownerEnded);

    /// <summary>Renews the lease of an instance on another node.</summary>
    void Renew(Address requestedBy, Address instance);

    /// <summary>A factory was registered on the local node: serve it to other nodes too.</summary>
    void FactoryRegistered(string service);

    /// <summary>Delivers to one instance of a service on another node (the fastest known, or any through the broker's queue group).</summary>
    void DeliverToService(Address sender, string service, object message, Category category, ReplySink? reply, ActivityContext trace, string? session);

    /// <summary>The local node's service instances changed: announce them.</summary>
    void ServicesChanged();

    /// <summary>
    /// A local target subscribed to a topic. On the <paramref name="first"/> local subscription, receive other nodes'
    /// events for it; for a durable topic, hand <paramref name="subscriber"/> the latest event (the current state).
    /// </summary>
    void TopicSubscribed(string topic, TargetCell subscriber, bool first);

    /// <summary>Publishes an event to the other nodes' subscribers of a topic.</summary>
    void Publish(Address sender, string topic, object @event, ActivityContext trace);
}
