using System.Collections.Concurrent;
using Tether.Internal;

namespace Tether;

public sealed partial class Node
{
    private readonly ConcurrentDictionary<string, Address> _factories = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers a factory: a service that creates an instance of <typeparamref name="T"/> for each owner that asks
    /// (<see cref="Context.Create"/>). <paramref name="create"/> receives the creator's argument; instances use <paramref name="options"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A factory is already registered under <paramref name="service"/>.</exception>
    public void RegisterFactory<T>(string service, Func<object?, T> create, SpawnOptions? options = null)
        where T : Target, ITarget<T>
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        ArgumentNullException.ThrowIfNull(create);
        SpawnOptions instanceOptions = options ?? SpawnOptions.Default;
        Address factory = Spawn(() => new FactoryTarget((node, request) =>
        {
            TargetCell? ownerCell = node.FindLocal(request.Owner);
            if (!request.Owner.IsNone && ownerCell is null && string.Equals(request.Owner.Node, node.Name, StringComparison.Ordinal))
            {
                throw new TetherException(ErrorCodes.NoSuchTarget, $"The owner {request.Owner} has ended; no instance of {service} was created.");
            }

            return node.SpawnCell(() => create(request.Argument), instanceOptions, ownerCell, request.Owner, request.Tether, onOwnerTurn: false).Address;
        }));

        if (!_factories.TryAdd(service, factory))
        {
            End(factory);
            throw new InvalidOperationException($"A factory is already registered under \"{service}\" on node {Name}.");
        }

        Remote?.FactoryRegistered(service);
    }

    /// <summary>The names of the factories registered on this node.</summary>
    internal IEnumerable<string> FactoryNames => _factories.Keys;

    /// <summary>Creates an instance from a local factory on behalf of an owner that may live on another node.</summary>
    internal ValueTask<Address> CreateLocal(Address owner, string service, object? argument, TetherPolicy tether, TimeSpan? timeout)
    {
        if (!_factories.TryGetValue(service, out Address factory))
        {
            return ValueTask.FromException<Address>(new TetherException(ErrorCodes.NoSuchService, $"No factory is registered under \"{service}\" on node {Name}."));
        }

        return SendRequest(owner, factory, new CreateInstance(owner, tether, argument), timeout);
    }

    /// <summary>Creates an instance from outside any target; it has no owner, so nothing ends it but an explicit <see cref="End(Address)"/> or itself.</summary>
    public ValueTask<Address> Create(string service, object? argument = null, TimeSpan? timeout = null)
        => CreateInstance(default, service, argument, TetherPolicy.Detached, timeout);

    internal ValueTask<Address> CreateInstance(Address owner, string service, object? argument, TetherPolicy tether, TimeSpan? timeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        ArgumentNullException.ThrowIfNull(tether);
        if (!_factories.ContainsKey(service) && Remote is { } remote)
        {
            return CreateRemote(remote, owner, service, argument, tether, timeout ?? Options.DefaultRequestTimeout);
        }

        return CreateLocal(owner, service, argument, tether, timeout);
    }

    private async ValueTask<Address> CreateRemote(RemoteTransport remote, Address owner, string service, object? argument, TetherPolicy tether, TimeSpan timeout)
    {
        Address instance = await remote.Create(owner, service, argument, tether, timeout).ConfigureAwait(false);
        if (FindLocal(owner) is { } ownerCell)
        {
            // The owner ends a remote instance when it ends itself: it must know it (an owner that ended
            // meanwhile ends it on receipt).
            ownerCell.PostSystem(new RemoteChildAdded(instance));
        }
        else if (!owner.IsNone)
        {
            remote.End(owner, instance, "owner ended", ownerEnded: true);
        }

        return instance;
    }
}
