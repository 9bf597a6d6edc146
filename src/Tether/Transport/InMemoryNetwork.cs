using System.Collections.Concurrent;
using Tether.Internal;

namespace Tether.Transport;

/// <summary>
/// Several nodes of one process joined as if over a network, with no broker: each joined node gets an in-memory
/// <see cref="RemoteTransport"/>, and addresses, requests, deferred replies, services, factories and tethers, and
/// topics work across them as across nodes. For tests of multi-node logic (fast and deterministic), and a working
/// example of a transport built on the public seam.
/// </summary>
/// <remarks>
/// <para>
/// Messages pass by reference, never serialized (as inside one node): nothing checks that a type could cross a real
/// wire. Delivery is synchronous into the receiving mailbox, so the order per sender and receiver holds.
/// </para>
/// <para>
/// <see cref="Leave"/> is a node lost: from then on it and the others are unreachable to each other, the requests
/// each side holds for the other fail at once with <see cref="ErrorCodes.NodeUnreachable"/>, the instances owned
/// across the split end where their tether says so, and watches of targets across it fire ("node X is unreachable"). A request's holder is the node it was delivered to: a reply token
/// forwarded inside a message to a third node is still counted as held by the second.
/// </para>
/// </remarks>
public sealed class InMemoryNetwork
{
    private readonly ConcurrentDictionary<string, InMemoryTransport> _members = new(StringComparer.Ordinal);
    private readonly Lock _registry = new();
    private Dictionary<string, InMemoryTransport[]> _services = new(StringComparer.Ordinal); // replaced, never changed
    private Dictionary<string, InMemoryTransport[]> _factories = new(StringComparer.Ordinal);
    private int _next;

    /// <summary>The names of the nodes in the network.</summary>
    public IReadOnlyCollection<string> Nodes => [.. _members.Keys];

    /// <summary>Joins <paramref name="node"/> to the network: from now on it reaches the other members, and they reach it.</summary>
    /// <param name="node">The node; it has no transport yet.</param>
    /// <exception cref="InvalidOperationException">The node already has a transport, or a node of its name is in the network.</exception>
    public void Join(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var transport = new InMemoryTransport(this, node);
        if (!_members.TryAdd(node.Name, transport))
        {
            throw new InvalidOperationException($"A node named {node.Name} is already in the network.");
        }

        try
        {
            transport.Join();
        }
        catch
        {
            _members.TryRemove(node.Name, out _);
            throw;
        }

        Update(transport);
    }

    /// <summary>
    /// Takes <paramref name="node"/> out of the network, as a lost node: it and the others become unreachable to each
    /// other, requests held across the split fail with <see cref="ErrorCodes.NodeUnreachable"/>, and instances whose
    /// owner is on the other side end where their tether says so. The node itself keeps running.
    /// </summary>
    /// <param name="node">The node.</param>
    /// <returns>False when it was not in the network.</returns>
    public bool Leave(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!_members.TryGetValue(node.Name, out InMemoryTransport? leaving) || leaving.Host.Node != node
            || !_members.TryRemove(KeyValuePair.Create(node.Name, leaving)))
        {
            return false;
        }

        leaving.MarkLeft();
        Update(leaving);
        foreach (InMemoryTransport other in _members.Values)
        {
            other.PeerLost(leaving.Name);
            leaving.PeerLost(other.Name);
        }

        return true;
    }

    internal InMemoryTransport? Member(string node) => _members.GetValueOrDefault(node);

    internal IEnumerable<InMemoryTransport> Members => _members.Values;

    /// <summary>A member serving <paramref name="service"/> other than <paramref name="from"/>, round robin; null when none.</summary>
    internal InMemoryTransport? ServiceMember(string service, InMemoryTransport from) => Choose(Volatile.Read(ref _services), service, from);

    /// <summary>A member with the factory <paramref name="service"/> other than <paramref name="from"/>; null when none.</summary>
    internal InMemoryTransport? FactoryMember(string service, InMemoryTransport from) => Choose(Volatile.Read(ref _factories), service, from);

    /// <summary>Reads a member's services and factories again (it joined, left, or they changed).</summary>
    internal void Update(InMemoryTransport member)
    {
        lock (_registry)
        {
            bool present = !member.Left;
            Volatile.Write(ref _services, Rebuild(_services, member, present ? member.Host.LocalServices().Keys : []));
            Volatile.Write(ref _factories, Rebuild(_factories, member, present ? member.Host.FactoryNames : []));
        }
    }

    private static Dictionary<string, InMemoryTransport[]> Rebuild(Dictionary<string, InMemoryTransport[]> current, InMemoryTransport member, IEnumerable<string> names)
    {
        var result = new Dictionary<string, InMemoryTransport[]>(StringComparer.Ordinal);
        foreach ((string name, InMemoryTransport[] members) in current)
        {
            InMemoryTransport[] others = Array.FindAll(members, m => m != member);
            if (others.Length > 0)
            {
                result[name] = others;
            }
        }

        foreach (string name in names)
        {
            result[name] = result.TryGetValue(name, out InMemoryTransport[]? members) ? [.. members, member] : [member];
        }

        return result;
    }

    private InMemoryTransport? Choose(Dictionary<string, InMemoryTransport[]> registry, string service, InMemoryTransport from)
    {
        if (!registry.TryGetValue(service, out InMemoryTransport[]? members))
        {
            return null;
        }

        int start = Interlocked.Increment(ref _next);
        for (int i = 0; i < members.Length; i++)
        {
            InMemoryTransport candidate = members[(int)((uint)(start + i) % (uint)members.Length)];
            if (candidate != from && !candidate.Left)
            {
                return candidate;
            }
        }

        return null;
    }
}
