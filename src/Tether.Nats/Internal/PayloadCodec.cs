using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using MessagePack;
using MessagePack.Formatters;

namespace Tether.Nats.Internal;

/// <summary>
/// Writes and reads payloads of one type with its formatter, found once: no type lookup per frame, as the
/// non-generic <see cref="MessagePackSerializer"/> calls make. For a registered contract it also carries the contract's
/// name, encoded once.
/// </summary>
internal abstract class PayloadCodec
{
    protected PayloadCodec(Type type, string? contract)
    {
        Type = type;
        Contract = contract;
        if (contract is not null)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(contract.Length + 5);
            var writer = new MessagePackWriter(buffer);
            writer.Write(contract);
            writer.Flush();
            ContractEncoded = buffer.WrittenSpan.ToArray();
        }
    }

    public Type Type { get; }

    /// <summary>The contract name the type is registered under (null for the proxy's own unregistered payloads).</summary>
    public string? Contract { get; }

    /// <summary>The MessagePack form of <see cref="Contract"/>.</summary>
    public byte[]? ContractEncoded { get; }

    public static PayloadCodec Create(Type type, MessagePackSerializerOptions options, string? contract = null)
        => (PayloadCodec)Activator.CreateInstance(typeof(PayloadCodec<>).MakeGenericType(type), options, contract)!;

    /// <exception cref="MessagePackSerializationException">The value could not be serialized.</exception>
    public abstract void Write(ref MessagePackWriter writer, object value);

    /// <summary>Reads one value; a malformed one throws whatever its formatter throws.</summary>
    public abstract object? Read(ref MessagePackReader reader);
}

/// <summary>The codec of <typeparamref name="T"/>.</summary>
internal sealed class PayloadCodec<T>(MessagePackSerializerOptions options, string? contract) : PayloadCodec(typeof(T), contract)
{
    private IMessagePackFormatter<T>? _formatter;

    private IMessagePackFormatter<T> Formatter => _formatter ??= options.Resolver.GetFormatterWithVerify<T>();

    public override void Write(ref MessagePackWriter writer, object value)
    {
        try
        {
            Formatter.Serialize(ref writer, (T)value, options);
        }
        catch (Exception ex) when (ex is not MessagePackSerializationException)
        {
            throw new MessagePackSerializationException($"Failed to serialize {typeof(T).Name} value: {ex.Message}", ex);
        }
    }

    public override object? Read(ref MessagePackReader reader) => Formatter.Deserialize(ref reader, options);
}

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
