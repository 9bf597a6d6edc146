using System.Collections.Concurrent;

namespace Tether.Nats;

/// <summary>
/// The message types that may cross the wire, each under a stable contract name (never a CLR type name from the wire).
/// Only registered contracts are ever deserialized. Register the same names on every node.
/// </summary>
public sealed class ContractRegistry
{
    private readonly ConcurrentDictionary<string, Type> _byName = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Type, string> _byType = new();

    /// <summary>Creates a registry holding the runtime's own contracts.</summary>
    public ContractRegistry()
    {
        Register<Address>("tether.address");
        Register<string>("tether.string");
        Register<int>("tether.int");
        Register<long>("tether.long");
        Register<bool>("tether.bool");
        Register<double>("tether.double");
    }

    /// <summary>Registers <typeparamref name="T"/> under <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty or too long, or the name or the type is already registered differently.</exception>
    public ContractRegistry Register<T>(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Length > 200)
        {
            throw new ArgumentException($"A contract name may have at most 200 characters: \"{name[..40]}...\".", nameof(name));
        }

        Type type = typeof(T);
        if (_byName.TryGetValue(name, out Type? existing) && existing != type)
        {
            throw new ArgumentException($"The contract name \"{name}\" is already registered for {existing.Name}; it cannot also name {type.Name}.", nameof(name));
        }

        if (_byType.TryGetValue(type, out string? existingName) && existingName != name)
        {
            throw new ArgumentException($"{type.Name} is already registered as \"{existingName}\"; it cannot also be \"{name}\".", nameof(name));
        }

        _byName[name] = type;
        _byType[type] = name;
        return this;
    }

    internal bool TryGetType(string name, out Type type)
    {
        if (_byName.TryGetValue(name, out Type? found))
        {
            type = found;
            return true;
        }

        type = typeof(object);
        return false;
    }

    internal bool TryGetName(Type type, out string name)
    {
        if (_byType.TryGetValue(type, out string? found))
        {
            name = found;
            return true;
        }

        name = "";
        return false;
    }
}
