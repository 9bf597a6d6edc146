using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace Tether;

/// <summary>
/// The node's one list of message contracts: each message type that crosses the wire, or has adapters, is registered
/// here once under its contract name. The broker proxy (only registered contracts are ever deserialized; never a CLR
/// type name from the wire), the adapters (<c>message: NAME</c> in a spec) and every later reader look names up here.
/// Register the same names on every node. Safe to use from several threads.
/// </summary>
/// <example>
/// <code>
/// var contracts = new ContractRegistry().RegisterAssembly(typeof(PlaceOrder).Assembly);   // every [Contract] type
/// await using Node node = Node.Create(new NodeOptions { Contracts = contracts });
/// </code>
/// </example>
public sealed class ContractRegistry
{
    private readonly ConcurrentDictionary<string, Type> _byName = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Type, string> _byType = new();
    private readonly Lock _gate = new();

    /// <summary>Creates a registry holding the runtime's own contracts (<c>tether.address</c>, <c>tether.string</c>, ...).</summary>
    public ContractRegistry()
    {
        Register<Address>("tether.address");
        Register<string>("tether.string");
        Register<int>("tether.int");
        Register<long>("tether.long");
        Register<bool>("tether.bool");
        Register<double>("tether.double");
    }

    /// <summary>How many contracts are registered, the runtime's own included.</summary>
    public int Count => _byType.Count;

    /// <summary>Registers <typeparamref name="T"/> under <paramref name="name"/>. Registering the same pair again does nothing.</summary>
    /// <exception cref="ArgumentException">The name is not a valid contract name (<see cref="Names.IsContractName"/>), or the name or the type is already registered differently.</exception>
    public ContractRegistry Register<T>(string name) => Register(typeof(T), name);

    /// <summary>Registers <typeparamref name="T"/> under the name of its <see cref="ContractAttribute"/>.</summary>
    /// <exception cref="ArgumentException">The type has no <see cref="ContractAttribute"/>, or as for <see cref="Register(Type, string)"/>.</exception>
    public ContractRegistry Register<T>() => Register(typeof(T), NameOf(typeof(T)) ?? throw new ArgumentException($"{typeof(T).FullName} has no [Contract(\"name\")] attribute; add one or call Register<{typeof(T).Name}>(name).", nameof(T)));

    /// <summary>Registers <paramref name="type"/> under <paramref name="name"/>. Registering the same pair again does nothing.</summary>
    /// <exception cref="ArgumentException">The name is not a valid contract name (<see cref="Names.IsContractName"/>), or the name or the type is already registered differently.</exception>
    public ContractRegistry Register(Type type, string name)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(name);
        if (Names.WhyNotContractName(name) is { } why)
        {
            throw new ArgumentException($"{type.FullName}: {why}", nameof(name));
        }

        lock (_gate)
        {
            if (_byName.TryGetValue(name, out Type? existing) && existing != type)
            {
                throw new ArgumentException($"The contract name \"{name}\" is already registered for {existing.FullName}; it cannot also name {type.FullName} (one name, one type).", nameof(name));
            }

            if (_byType.TryGetValue(type, out string? existingName) && existingName != name)
            {
                throw new ArgumentException($"{type.FullName} is already registered as \"{existingName}\"; it cannot also be \"{name}\" (one type, one name).", nameof(name));
            }

            _byName[name] = type;
            _byType[type] = name;
        }

        return this;
    }

    /// <summary>Registers every type of <paramref name="assembly"/> that carries a <see cref="ContractAttribute"/>, public or not.</summary>
    /// <exception cref="ArgumentException">As for <see cref="Register(Type, string)"/>, naming the type.</exception>
    [RequiresUnreferencedCode("Lists the assembly's types; under trimming, register each type with Register<T>() instead.")]
    public ContractRegistry RegisterAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        Type?[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            types = ex.Types; // the types that did load; the others cannot be messages here anyway
        }

        foreach (Type? type in types.OrderBy(t => t?.FullName, StringComparer.Ordinal))
        {
            if (type is not null && NameOf(type) is { } name)
            {
                Register(type, name);
            }
        }

        return this;
    }

    /// <summary>The type registered under <paramref name="name"/>; false (and <see cref="object"/>) when none is.</summary>
    public bool TryGetType(string name, out Type type)
    {
        if (_byName.TryGetValue(name, out Type? found))
        {
            type = found;
            return true;
        }

        type = typeof(object);
        return false;
    }

    /// <summary>The contract name of <paramref name="type"/>; false (and an empty name) when it is not registered.</summary>
    public bool TryGetName(Type type, out string name)
    {
        if (_byType.TryGetValue(type, out string? found))
        {
            name = found;
            return true;
        }

        name = "";
        return false;
    }

    /// <summary>A copy of the registrations, by contract name.</summary>
    public IReadOnlyDictionary<string, Type> Snapshot()
    {
        lock (_gate)
        {
            return new Dictionary<string, Type>(_byName, StringComparer.Ordinal);
        }
    }

    /// <summary>The name in <paramref name="type"/>'s <see cref="ContractAttribute"/>; null without one.</summary>
    public static string? NameOf(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.GetCustomAttribute<ContractAttribute>(inherit: false)?.Name;
    }
}
