using Tether.Nats;

namespace Tether.Hosting;

/// <summary>The node a host runs, and its broker proxy once started. Resolve it from DI.</summary>
public sealed class TetherRuntime
{
    internal TetherRuntime(Node node) => Node = node;

    /// <summary>The node.</summary>
    public Node Node { get; }

    /// <summary>The broker proxy; null for an embedded node or before the host started.</summary>
    public BrokerProxy? Broker { get; internal set; }

    /// <summary>True once the host has started the node and its modules.</summary>
    public bool IsStarted { get; internal set; }
}
