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
