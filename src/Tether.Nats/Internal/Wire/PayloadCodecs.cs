using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using MessagePack;
using MessagePack.Formatters;

namespace Tether.Nats.Internal;

/// <summary>A proxy's codecs: by type for what it sends, by contract name for what it receives. Only registered contracts are found by name.</summary>
internal sealed class PayloadCodecs(ContractRegistry contracts, MessagePackSerializerOptions options)
{
    private readonly ConcurrentDictionary<Type, PayloadCodec> _byType = new();
    private readonly ConcurrentDictionary<string, PayloadCodec> _byName = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Type, PayloadCodec> _own = new();
    private PayloadCodec? _lastByType; // the last codec found: most frames repeat the one before (one reference compare)
    private NameHit? _lastByName;

    public MessagePackSerializerOptions Options => options;

    /// <summary>The codec of a registered contract's type; false when the type is not registered.</summary>
    public bool TryGetByType(Type type, [NotNullWhen(true)] out PayloadCodec? codec)
    {
        codec = Volatile.Read(ref _lastByType);
        if (codec?.Type == type)
        {
            return true;
        }

        if (_byType.TryGetValue(type, out codec))
        {
            Volatile.Write(ref _lastByType, codec); // written on a change only: a line every sender writes would bounce
            return true;
        }

        if (!contracts.TryGetName(type, out string name))
        {
            return false; // not cached: it may be registered later
        }

        codec = _byType.GetOrAdd(type, static (t, s) => PayloadCodec.Create(t, s.options, s.name), (options, name));
        Volatile.Write(ref _lastByType, codec);
        return true;
    }

    /// <summary>The codec of a registered contract's name; false when no type is registered under it.</summary>
    public bool TryGetByName(string name, [NotNullWhen(true)] out PayloadCodec? codec)
    {
        // Received names are interned (Utf8Interner), so the same contract is usually the very same string.
        if (Volatile.Read(ref _lastByName) is { } last && ReferenceEquals(last.Name, name))
        {
            codec = last.Codec;
            return true;
        }

        if (_byName.TryGetValue(name, out codec))
        {
            Volatile.Write(ref _lastByName, new NameHit(name, codec));
            return true;
        }

        if (!contracts.TryGetType(name, out Type type) || !TryGetByType(type, out codec))
        {
            return false;
        }

        _byName.TryAdd(name, codec);
        return true;
    }

    /// <summary>The codec of one of the proxy's own payload types (not a contract, such as a heartbeat's services).</summary>
    public PayloadCodec ForOwn(Type type) => _own.GetOrAdd(type, static (t, o) => PayloadCodec.Create(t, o), options);

    private sealed record NameHit(string Name, PayloadCodec Codec);
}
