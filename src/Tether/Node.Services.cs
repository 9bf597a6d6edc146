using System.Collections.Concurrent;
using System.Diagnostics;
using Tether.Internal;

namespace Tether;

public sealed partial class Node
{
    private readonly ConcurrentDictionary<string, ServiceInstances> _services = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers a live local target as an instance of <paramref name="service"/>. A message to the service goes to one
    /// of its instances: a local one when there is one (round robin), otherwise, with a broker proxy attached, the
    /// fastest known instance on another node. The registration ends when the target ends.
    /// </summary>
    /// <exception cref="ArgumentException">The service name is empty, or the address is not a live target of this node.</exception>
    public void RegisterService(string service, Address instance)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        TargetCell cell = FindLocal(instance) ?? throw new ArgumentException($"{instance} is not a live target of node {Name}; only local targets can be registered as service instances.", nameof(instance));
        ServiceInstances instances = _services.GetOrAdd(service, static _ => new ServiceInstances());
        if (instances.Add(cell))
        {
            cell.AddService(service);
            if (!cell.IsAlive)
            {
                RemoveServiceInstance(service, cell); // it ended while being registered: its end saw no service yet
                return;
            }

            Remote?.ServicesChanged();
        }
    }

    /// <summary>Withdraws a target from <paramref name="service"/>.</summary>
    public void UnregisterService(string service, Address instance)
    {
        if (FindLocal(instance) is { } cell)
        {
            RemoveServiceInstance(service, cell);
        }
    }

    /// <summary>Sends a message to one instance of a service, fire and forget, carrying <paramref name="session"/> when given.</summary>
    public void Send<T>(string service, T message, string? session = null)
        where T : notnull
        => DeliverToService(default, service, message, Category.Send, null, Telemetry.CurrentTrace(), localOnly: false, session);

    /// <summary>
    /// Sends a request to one instance of a service (see <see cref="RegisterService"/> for how the instance is chosen),
    /// carrying <paramref name="session"/> (a session token, for a protected input channel) when given.
    /// </summary>
    public ValueTask<TResponse> Request<TResponse>(string service, IRequest<TResponse> request, TimeSpan? timeout = null, string? session = null)
        => SendServiceRequest(default, service, request, timeout, session);

    /// <summary>The services with at least one instance on this node, and their instances.</summary>
    internal IReadOnlyDictionary<string, Address[]> LocalServices()
    {
        var result = new Dictionary<string, Address[]>(StringComparer.Ordinal);
        foreach ((string name, ServiceInstances instances) in _services)
        {
            TargetCell[] cells = instances.Cells;
            if (cells.Length > 0)
            {
                result[name] = Array.ConvertAll(cells, c => c.Address);
            }
        }

        return result;
    }

    internal void RemoveServiceInstance(string service, TargetCell cell)
    {
        if (_services.TryGetValue(service, out ServiceInstances? instances) && instances.Remove(cell))
        {
            cell.RemoveService(service);
            Remote?.ServicesChanged();
        }
    }

    internal ValueTask<TResponse> SendServiceRequest<TResponse>(Address sender, string service, IRequest<TResponse> request, TimeSpan? timeout, string? session = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        (PendingRequest<TResponse> pending, ActivityContext trace) = NewPending(request, default, timeout, service);
        DeliverToService(sender, service, request, Category.Request, pending, trace, localOnly: false, session);
        return pending.Task;
    }

    /// <summary>
    /// Delivers to one instance of a service. <paramref name="localOnly"/> is set for messages that already crossed
    /// the broker to reach this node: they never bounce back out.
    /// </summary>
    internal void DeliverToService(Address sender, string service, object message, Category category, ReplySink? reply, ActivityContext trace, bool localOnly, string? session = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_services.TryGetValue(service, out ServiceInstances? instances) && instances.Next() is { } cell)
        {
            DeliverTo(cell, sender, message, category, reply, trace, session);
            return;
        }

        if (!localOnly && Remote is { } remote)
        {
            remote.DeliverToService(sender, service, message, (MessageKind)category, reply, trace, session);
            return;
        }

        string why = $"no instance of service \"{service}\" is registered on node {Name}{(Remote is null && !localOnly ? " and no broker proxy is attached" : "")}";
        if (reply is not null)
        {
            reply.TryFail(new TetherException(ErrorCodes.NoSuchService, $"{message.GetType().Name} could not be delivered: {why}."));
            return;
        }

        CountDeadLetter(message, sender, default, why);
    }

    /// <summary>A service's local instances: a copy-on-write array, chosen round robin without a lock.</summary>
    private sealed class ServiceInstances
    {
        private int _next;

        public TargetCell[] Cells { get; private set; } = [];

        public bool Add(TargetCell cell)
        {
            lock (this)
            {
                if (Array.IndexOf(Cells, cell) >= 0)
                {
                    return false;
                }

                Cells = [.. Cells, cell];
                return true;
            }
        }

        public bool Remove(TargetCell cell)
        {
            lock (this)
            {
                int before = Cells.Length;
                Cells = Array.FindAll(Cells, c => c != cell);
                return Cells.Length != before;
            }
        }

        public TargetCell? Next()
        {
            TargetCell[] cells = Cells;
            return cells.Length switch
            {
                0 => null,
                1 => cells[0],
                _ => cells[(int)((uint)Interlocked.Increment(ref _next) % (uint)cells.Length)],
            };
        }
    }
}
