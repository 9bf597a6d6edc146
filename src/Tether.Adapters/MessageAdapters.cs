using System.Collections.Concurrent;
using Tether.Adapters.Internal;

namespace Tether.Adapters;

/// <summary>
/// Message contracts bound to CLR types and compiled into pipes: the <see cref="IMessageAdapters"/> a node applies at its
/// mailboxes. Build one with <see cref="CreateBuilder(ContractRegistry)"/> while the node starts and pass it as <see cref="NodeOptions.Adapters"/>.
/// </summary>
/// <example>
/// <code>
/// var contracts = new ContractRegistry().RegisterAssembly(typeof(PlaceOrder).Assembly); // [Contract("Orders.PlaceOrder")]
/// MessageAdapters adapters = MessageAdapters.CreateBuilder(contracts)
///     .AddPredicate&lt;string&gt;("is-sku", s =&gt; s.StartsWith("SKU-", StringComparison.Ordinal))
///     .AddDirectory("contracts")
///     .Build();                      // a broken spec throws ContractSpecException naming file:line:col
/// await using Node node = Node.Create(new NodeOptions { Contracts = contracts, Adapters = adapters });
/// </code>
/// </example>
/// <remarks>
/// <para>Inbound, a message whose type has a contract enforced on <see cref="Enforcement.Input"/> has its defaults filled
/// and its rules checked before the handler. A message the target has no input channel for, but which maps (through one or
/// more <c>mapFrom</c> steps) onto a type it handles, is checked against its own contract, mapped, and checked again.
/// Outbound, contracts enforced on <see cref="Enforcement.Output"/> apply to what targets send, publish, request and answer.</para>
/// <para>Pipes are composed on first request and cached; all reflection and compilation happens in <see cref="MessageAdaptersBuilder.Build"/>
/// and pipe composition, never per message. Instances are immutable and thread-safe.</para>
/// </remarks>
public sealed class MessageAdapters : IMessageAdapters
{
    private readonly Dictionary<Type, CompiledContract> _byType;
    private readonly Dictionary<Type, List<MapStage>> _mapsFrom;
    private readonly ConcurrentDictionary<Type, MessagePipe?> _direct = new();
    private readonly ConcurrentDictionary<Type, MessagePipe?> _outbound = new();

    internal MessageAdapters(IReadOnlyDictionary<string, CompiledContract> contracts, IEnumerable<MapStage> maps, IReadOnlyList<ContractSpec> specs)
    {
        _byType = contracts.Values.ToDictionary(c => c.Type);
        _mapsFrom = [];
        foreach (MapStage map in maps)
        {
            if (!_mapsFrom.TryGetValue(map.SourceType, out List<MapStage>? list))
            {
                _mapsFrom[map.SourceType] = list = [];
            }

            list.Add(map);
        }

        Specs = specs;
        HasOutbound = _byType.Values.Any(c => c.Spec.Enforce.HasFlag(Enforcement.Output));
    }

    /// <inheritdoc />
    public bool HasOutbound { get; }

    /// <summary>The contracts in force, as written.</summary>
    public IReadOnlyList<ContractSpec> Specs { get; }

    /// <summary>The compiled contract of a CLR type, or null (for tests and diagnostics).</summary>
    internal CompiledContract? ContractFor(Type type) => _byType.GetValueOrDefault(type);

    /// <summary>Starts a builder with a contract registry of its own (for adapters that never meet the wire).</summary>
    public static MessageAdaptersBuilder CreateBuilder() => new(new ContractRegistry());

    /// <summary>
    /// Starts a builder that finds each spec's message type in <paramref name="contracts"/>, the node's one registry
    /// (<see cref="Node.Contracts"/>, <see cref="NodeOptions.Contracts"/>); what is registered there by <see cref="MessageAdaptersBuilder.Build"/> counts.
    /// </summary>
    public static MessageAdaptersBuilder CreateBuilder(ContractRegistry contracts)
    {
        ArgumentNullException.ThrowIfNull(contracts);
        return new(contracts);
    }

    /// <inheritdoc />
    public MessagePipe? Inbound(Type targetType, Type messageType, IReadOnlyList<Type> inputChannels)
    {
        ArgumentNullException.ThrowIfNull(messageType);
        ArgumentNullException.ThrowIfNull(inputChannels);
        if (inputChannels.Contains(messageType))
        {
            return _direct.GetOrAdd(messageType, type => Pipe(InputStages(type)));
        }

        List<MapStage>? route = Route(targetType, messageType, inputChannels);
        if (route is null)
        {
            return null;
        }

        var stages = new List<Stage>(InputStages(messageType));
        foreach (MapStage map in route)
        {
            stages.Add(map);
            stages.AddRange(InputStages(map.TargetType));
        }

        return Pipe(stages);
    }

    /// <inheritdoc />
    public MessagePipe? Outbound(Type targetType, Type messageType)
    {
        ArgumentNullException.ThrowIfNull(messageType);
        return _outbound.GetOrAdd(messageType, type => _byType.TryGetValue(type, out CompiledContract? contract) && contract.Spec.Enforce.HasFlag(Enforcement.Output)
            ? Pipe(contract.Stages())
            : null);
    }

    /// <summary>The pipe for <paramref name="messageType"/> arriving at <paramref name="targetType"/>, in plain words; for diagnostics.</summary>
    public string Describe(Type targetType, Type messageType, IReadOnlyList<Type> inputChannels)
        => Inbound(targetType, messageType, inputChannels)?.ToString() ?? "nothing: the message passes untouched";

    private static MessagePipe? Pipe(IEnumerable<Stage> stages)
    {
        Stage[] array = stages.ToArray();
        return array.Length switch
        {
            0 => null,
            1 => array[0],
            _ => new AdapterPipe(array),
        };
    }

    private IEnumerable<Stage> InputStages(Type type)
        => _byType.TryGetValue(type, out CompiledContract? contract) && contract.Spec.Enforce.HasFlag(Enforcement.Input) ? contract.Stages() : [];

    /// <summary>The shortest chain of mappings from <paramref name="from"/> to a type the target handles; ambiguity is an error.</summary>
    private List<MapStage>? Route(Type targetType, Type from, IReadOnlyList<Type> handled)
    {
        var previous = new Dictionary<Type, MapStage> { [from] = null! };
        var frontier = new List<Type> { from };
        while (frontier.Count > 0)
        {
            var next = new List<Type>();
            var reached = new List<Type>();
            foreach (Type type in frontier)
            {
                foreach (MapStage map in _mapsFrom.GetValueOrDefault(type) ?? [])
                {
                    if (previous.TryAdd(map.TargetType, map))
                    {
                        next.Add(map.TargetType);
                        if (handled.Contains(map.TargetType))
                        {
                            reached.Add(map.TargetType);
                        }
                    }
                }
            }

            if (reached.Count > 1)
            {
                throw new InvalidOperationException(
                    $"{from.Name} maps onto {string.Join(" and ", reached.Select(t => (_byType.TryGetValue(t, out CompiledContract? c) ? c.Name : t.Name)))}, and {targetType.Name} handles both: the adapters cannot choose. Give {targetType.Name} an input channel for {from.Name}, or remove one mapping.");
            }

            if (reached.Count == 1)
            {
                var route = new List<MapStage>();
                for (Type at = reached[0]; at != from; at = previous[at].SourceType)
                {
                    route.Insert(0, previous[at]);
                }

                return route;
            }

            frontier = next;
        }

        return null;
    }
}
