using System.Collections.Concurrent;

namespace Tether.Nats.Internal;

/// <summary>
/// The instances of each service on other nodes, as announced in their heartbeats, with a moving latency per
/// instance. Most requests go to the faster of two random instances (so equally fast ones share and a slow one
/// gets almost nothing); a small exploration share goes to a random one, so an instance that recovers is found again.
/// </summary>
internal sealed class ServiceRouter(double exploration, double smoothing)
{
    /// <summary>The factor by which an error or a timeout weighs against an instance's moving latency.</summary>
    internal const double ErrorPenalty = 10;

    private readonly ConcurrentDictionary<string, InstanceSet> _services = new(StringComparer.Ordinal);

    /// <summary>Replaces what <paramref name="node"/> serves with its latest announcement.</summary>
    public void Announce(string node, IReadOnlyDictionary<string, long[]> services)
    {
        foreach ((string service, long[] ids) in services)
        {
            _services.GetOrAdd(service, static _ => new InstanceSet()).Replace(node, ids);
        }

        foreach ((string service, InstanceSet set) in _services)
        {
            if (!services.ContainsKey(service))
            {
                set.Replace(node, []);
            }
        }
    }

    public void Forget(string node)
    {
        foreach (InstanceSet set in _services.Values)
        {
            set.Replace(node, []);
        }
    }

    public Address? Choose(string service)
        => _services.TryGetValue(service, out InstanceSet? set) ? set.Choose(exploration) : null;

    public void Record(string service, Address instance, double milliseconds)
    {
        if (_services.TryGetValue(service, out InstanceSet? set))
        {
            set.Record(instance, milliseconds, smoothing);
        }
    }

    /// <summary>The moving latency of each known instance (for tests and diagnostics).</summary>
    public IReadOnlyDictionary<Address, double> Latencies(string service)
        => _services.TryGetValue(service, out InstanceSet? set) ? set.Snapshot() : new Dictionary<Address, double>();

    private sealed class InstanceSet
    {
        private readonly List<Instance> _instances = [];

        public void Replace(string node, long[] ids)
        {
            lock (_instances)
            {
                _instances.RemoveAll(i => i.Address.Node == node && Array.IndexOf(ids, i.Address.Id) < 0);
                foreach (long id in ids)
                {
                    if (!_instances.Exists(i => i.Address.Node == node && i.Address.Id == id))
                    {
                        _instances.Add(new Instance(new Address(node, id)));
                    }
                }
            }
        }

        public Address? Choose(double exploration)
        {
            lock (_instances)
            {
                int count = _instances.Count;
                if (count == 0)
                {
                    return null;
                }

                if (count == 1)
                {
                    return _instances[0].Address;
                }

                if (Random.Shared.NextDouble() < exploration)
                {
                    return _instances[Random.Shared.Next(count)].Address;
                }

                // Power of two choices: of two distinct random instances, the one with the lower moving latency
                // (an unmeasured one counts as fastest). A slow instance loses every comparison; equal ones share.
                int first = Random.Shared.Next(count);
                int second = (first + 1 + Random.Shared.Next(count - 1)) % count;
                return Math.Max(_instances[first].Latency, 0) <= Math.Max(_instances[second].Latency, 0)
                    ? _instances[first].Address
                    : _instances[second].Address;
            }
        }

        public void Record(Address address, double milliseconds, double smoothing)
        {
            lock (_instances)
            {
                Instance? instance = _instances.Find(i => i.Address == address);
                if (instance is not null)
                {
                    instance.Latency = instance.Latency < 0 ? milliseconds : (instance.Latency * (1 - smoothing)) + (milliseconds * smoothing);
                }
            }
        }

        public Dictionary<Address, double> Snapshot()
        {
            lock (_instances)
            {
                return _instances.ToDictionary(i => i.Address, i => i.Latency);
            }
        }
    }

    private sealed class Instance(Address address)
    {
        public Address Address { get; } = address;

        public double Latency { get; set; } = -1;
    }
}
