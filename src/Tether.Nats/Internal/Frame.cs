using System.Buffers;
using MessagePack;

namespace Tether.Nats.Internal;

internal enum FrameKind : byte
{
    Send = 1,
    Request = 2,
    Event = 3,
    Response = 4,
    Error = 5,
    End = 6,
    Renew = 7,
    Create = 8,
    Heartbeat = 9,
    Bye = 10,
}

/// <summary>
/// The wire envelope: a MessagePack array
/// <c>[version, kind, senderNode, senderId, recipientId, contract, traceparent, errorCode, errorText, flag, payload]</c>.
/// The payload is the registered contract's MessagePack form; the contract name, never a CLR type name, says what it is.
/// </summary>
internal struct Frame
{
    public const int Version = 1;
    private const int Fields = 11;

    public FrameKind Kind;
    public string? SenderNode;
    public long SenderId;
    public long RecipientId;
    public string? Contract;
    public string? TraceParent;
    public string? ErrorCode;
    public string? ErrorText;
    public long Flag;

    public Address Sender => SenderNode is null ? default : new Address(SenderNode, SenderId);

    public readonly byte[] Encode(Type? payloadType, object? payload, MessagePackSerializerOptions? options = null)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(Fields);
        writer.Write(Version);
        writer.Write((byte)Kind);
        writer.Write(SenderNode);
        writer.Write(SenderId);
        writer.Write(RecipientId);
        writer.Write(Contract);
        writer.Write(TraceParent);
        writer.Write(ErrorCode);
        writer.Write(ErrorText);
        writer.Write(Flag);
        if (payloadType is null || payload is null)
        {
            writer.WriteNil();
        }
        else
        {
            MessagePackSerializer.Serialize(payloadType, ref writer, payload, options ?? throw new InvalidOperationException("A frame with a payload needs the proxy's serializer options."));
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads the header; <paramref name="reader"/> is left at the payload.</summary>
    /// <exception cref="WireException">The frame is malformed; the message says how.</exception>
    public static Frame DecodeHeader(ref MessagePackReader reader)
    {
        try
        {
            int count = reader.ReadArrayHeader();
            if (count != Fields)
            {
                throw new WireException($"a frame has {Fields} fields, this one {count}");
            }

            int version = reader.ReadInt32();
            if (version != Version)
            {
                throw new WireException($"frame version {version} is not supported (this node speaks {Version})");
            }

            var frame = new Frame
            {
                Kind = (FrameKind)reader.ReadByte(),
                SenderNode = reader.ReadString(),
                SenderId = reader.ReadInt64(),
                RecipientId = reader.ReadInt64(),
                Contract = reader.ReadString(),
                TraceParent = reader.ReadString(),
                ErrorCode = reader.ReadString(),
                ErrorText = reader.ReadString(),
                Flag = reader.ReadInt64(),
            };
            if (!Enum.IsDefined(frame.Kind))
            {
                throw new WireException($"frame kind {(byte)frame.Kind} is unknown");
            }

            if (frame.SenderNode is not null && !BrokerOptions.IsToken(frame.SenderNode))
            {
                throw new WireException("the sender's node name is not valid");
            }

            return frame;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException)
        {
            throw new WireException($"the frame is truncated or malformed ({ex.Message})", ex);
        }
    }

    public static object? ReadPayload(ref MessagePackReader reader, Type type, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        try
        {
            return MessagePackSerializer.Deserialize(type, ref reader, options);
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentException)
        {
            throw new WireException($"the payload is not a valid {type.Name} ({ex.InnerException?.Message ?? ex.Message})", ex);
        }
    }
}

/// <summary>A frame that cannot be read. Counted, logged, answered when the sender is known; never fatal.</summary>
internal sealed class WireException : Exception
{
    public WireException(string message)
        : base(message)
    {
    }

    public WireException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
