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

    /// <summary>Several frames for one destination in one NATS message (see <see cref="Frame.BatchKind"/>).</summary>
    Batch = 11,

    /// <summary>
    /// "Node X has your request now" (X in the sender-node field): sent on the reply subject by the node that took a
    /// request or a create from a service's queue group (hop 1), or by a node that passed the request's reply token on to
    /// X (hop = the token's hops so far + 1). The hop travels in the recipient-id field; the requester watches the node of
    /// the highest hop it has heard of (notices from different nodes may arrive in any order), and fails the request at
    /// once if that node is lost.
    /// </summary>
    Accepted = 12,

    /// <summary>"Report the end of your target (recipient id) to my node (sender node)": see <see cref="NatsWatches"/>.</summary>
    Watch = 13,

    /// <summary>"My node (sender node) no longer watches your target (recipient id)."</summary>
    Unwatch = 14,

    /// <summary>"My target (sender) that your node watches ended", the reason as the error text.</summary>
    Ended = 15,
}

/// <summary>
/// The wire envelope: a MessagePack array
/// <c>[version, kind, senderNode, senderId, recipientId, contract, traceparent, errorCode, errorText, flag, payload]</c>,
/// or, for a message that carries a session token, the same with the token before the payload
/// (<c>[..., flag, session, payload]</c>: 12 fields). A frame without a session is written exactly as before the field
/// existed, so heartbeats, stored durable events and frames of older nodes read unchanged.
/// The payload is the registered contract's MessagePack form; the contract name, never a CLR type name, says what it is.
/// Inside a batch of <see cref="BatchVersion"/> 2, a frame's senderNode or contract may be <see cref="SameName"/> (the
/// integer 0) instead of a string: the same name as the frame before it in the batch (names are most of a small frame's
/// bytes; see <see cref="BatchNames"/>).
/// </summary>
internal struct Frame
{
    /// <summary>The version of a frame's own layout (unchanged since the first).</summary>
    public const int Version = 1;

    /// <summary>
    /// The version of the batch frames this node writes: 2, whose frames may refer to the names of the frame before them
    /// (<see cref="SameName"/>). Batches of version 1 (every name in full) are read too, so a node of an earlier release
    /// is understood; it cannot read version 2 batches (it refuses them, counted and answered as bad frames).
    /// </summary>
    public const int BatchVersion = 2;

    /// <summary>In place of a name, in a frame of a batch after the first: "the previous frame's name" (positive fixint 0).</summary>
    public const byte SameName = 0x00;

    /// <summary>Where a frame's sender node name starts: after the array header, the version and the kind (one byte each).</summary>
    public const int SenderNodeOffset = 3;

    /// <summary>The longest session token a frame may carry, in UTF-8 bytes: a signed token is far shorter; more is hostile.</summary>
    public const int MaxSessionBytes = 8 * 1024;

    private const int Fields = 11;
    private const int FieldsWithSession = 12;

    public FrameKind Kind;
    public string? SenderNode;
    public long SenderId;
    public long RecipientId;
    public string? Contract;
    public string? TraceParent;
    public string? ErrorCode;
    public string? ErrorText;
    public long Flag;

    /// <summary>The session token the message carries (null: none, and the frame has no session field).</summary>
    public string? Session;

    /// <summary>When set, the MessagePack form of <see cref="SenderNode"/>, written as it is (no encoding per frame).</summary>
    public byte[]? SenderNodeEncoded;

    /// <summary>When set, the MessagePack form of <see cref="Contract"/>, written as it is.</summary>
    public byte[]? ContractEncoded;

    public Address Sender => SenderNode is null ? default : new Address(SenderNode, SenderId);

    /// <summary>
    /// The kind of a batch frame: a MessagePack array <c>[version, 11, item, item, ...]</c> (always with a 32-bit array
    /// header, so the header has a fixed size of <see cref="BatchHeaderBytes"/>), each item <c>[correlation, replyTo, frame]</c>:
    /// the correlation an answer is for (in a batch of replies) or a request awaits (0 otherwise), the NATS reply subject
    /// of a request (or nil) and the frame itself as binary. A request with a correlation and no reply subject of its own
    /// is answered to the batch's reply subject with its last token replaced by the correlation (the batch's sender's
    /// replies: <c>tether.{cluster}.reply.{node}.{correlation}</c>); this is how Tether sends requests in batches, with no
    /// subject text per request. Each frame is otherwise handled exactly as if it had come in its own NATS message.
    /// </summary>
    public const FrameKind BatchKind = FrameKind.Batch;

    /// <summary>The size of a batch frame's header: array32 marker and count, version, kind.</summary>
    public const int BatchHeaderBytes = 7;

    /// <summary>Writes a batch header for <paramref name="items"/> items at the start of <paramref name="buffer"/>.</summary>
    public static void WriteBatchHeader(Span<byte> buffer, int items)
    {
        buffer[0] = 0xDD;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(buffer[1..], (uint)(items + 2));
        buffer[5] = BatchVersion;
        buffer[6] = (byte)FrameKind.Batch;
    }

    /// <summary>Builds a batch frame from whole frames (the proxy writes batches in place; this serves tests and tools).</summary>
    public static byte[] EncodeBatch(IReadOnlyList<(long Correlation, string? ReplyTo, byte[] Frame)> items)
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.GetSpan(BatchHeaderBytes);
        buffer.Advance(BatchHeaderBytes);
        var writer = new MessagePackWriter(buffer);
        foreach ((long correlation, string? replyTo, byte[] frame) in items)
        {
            writer.WriteArrayHeader(3);
            writer.Write(correlation);
            writer.Write(replyTo);
            writer.Write(frame);
        }

        writer.Flush();
        byte[] bytes = buffer.WrittenSpan.ToArray();
        WriteBatchHeader(bytes, items.Count);
        return bytes;
    }

    /// <summary>True when <paramref name="data"/> starts like a batch frame (it may still be malformed further on).</summary>
    /// <remarks>The version is not looked at here: a batch of another version is read as a batch, and refused for its version.</remarks>
    public static bool IsBatch(ReadOnlySpan<byte> data)
        => data.Length >= BatchHeaderBytes && data[0] == 0xDD && data[6] == (byte)FrameKind.Batch;

    /// <summary>Reads a batch header; <paramref name="reader"/> is left at the first item.</summary>
    /// <returns>The number of items announced.</returns>
    /// <exception cref="WireException">The header is malformed.</exception>
    public static int DecodeBatchHeader(ref WireReader reader) => DecodeBatchHeader(ref reader, out _);

    /// <summary>Reads a batch header; <paramref name="reader"/> is left at the first item.</summary>
    /// <param name="reader">At the start of the batch.</param>
    /// <param name="namesReferred">True when the batch's frames may refer to names (<see cref="SameName"/>; version 2).</param>
    /// <returns>The number of items announced.</returns>
    /// <exception cref="WireException">The header is malformed, or of a version this node does not read.</exception>
    public static int DecodeBatchHeader(ref WireReader reader, out bool namesReferred)
    {
        int count = reader.ReadArrayHeader();
        long version = count < 2 ? -1 : reader.ReadInt64();
        if (count >= 2 && version is not (1 or BatchVersion))
        {
            throw new WireException($"batch version {version} is not supported (this node reads 1 and {BatchVersion})");
        }

        if (count < 2 || reader.ReadInt64() != (byte)FrameKind.Batch)
        {
            throw new WireException("the batch header is malformed");
        }

        namesReferred = version == BatchVersion;
        return count - 2;
    }

    /// <summary>Reads one batch item: the correlation, the reply subject and the frame's bytes (a slice of <paramref name="batch"/>, which <paramref name="reader"/> reads, not a copy).</summary>
    /// <exception cref="WireException">The item is truncated or malformed (the rest of the batch cannot be found).</exception>
    public static void DecodeBatchItem(ref WireReader reader, ReadOnlyMemory<byte> batch, out long correlation, out string? replyTo, out ReadOnlyMemory<byte> frame)
    {
        if (reader.ReadArrayHeader() != 3)
        {
            throw new WireException("a batch item has 3 fields");
        }

        correlation = reader.ReadInt64();
        replyTo = reader.ReadString();
        if (!reader.TryReadBinary(out int offset, out int length))
        {
            throw new WireException("a batch item has no frame");
        }

        frame = batch.Slice(offset, length);
    }

    /// <summary>Encodes with a codec made for this call (by reflection): for tests and tools; the proxy keeps its codecs in <see cref="PayloadCodecs"/>.</summary>
    public readonly byte[] Encode(Type? payloadType, object? payload, MessagePackSerializerOptions? options = null)
        => Encode(payloadType is null ? null : PayloadCodec.Create(payloadType, options ?? throw new InvalidOperationException("A frame with a payload needs the proxy's serializer options.")), payload);

    public readonly byte[] Encode(PayloadCodec? codec, object? payload)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        EncodeTo(buffer, codec, payload);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the frame into <paramref name="buffer"/> (no copy of its own).</summary>
    /// <exception cref="MessagePackSerializationException">The payload could not be serialized.</exception>
    public readonly void EncodeTo(IBufferWriter<byte> buffer, PayloadCodec? codec, object? payload)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(Session is null ? Fields : FieldsWithSession);
        writer.Write(Version);
        writer.Write((byte)Kind);
        if (SenderNodeEncoded is { } node)
        {
            writer.WriteRaw(node);
        }
        else
        {
            writer.Write(SenderNode);
        }

        writer.Write(SenderId);
        writer.Write(RecipientId);
        if (ContractEncoded is { } contract)
        {
            writer.WriteRaw(contract);
        }
        else
        {
            writer.Write(Contract);
        }

        writer.Write(TraceParent);
        writer.Write(ErrorCode);
        writer.Write(ErrorText);
        writer.Write(Flag);
        if (Session is not null)
        {
            writer.Write(Session);
        }

        if (codec is null || payload is null)
        {
            writer.WriteNil();
        }
        else
        {
            codec.Write(ref writer, payload);
        }

        writer.Flush();
    }

    /// <summary>
    /// Where this frame's pre-encoded names lie in <paramref name="encoded"/> (its bytes as <see cref="EncodeTo"/> wrote
    /// them), for a batch writer that may put <see cref="SameName"/> in their place. A name not pre-encoded, or not
    /// found where it should be, has a length of 0 (it is left as it is).
    /// </summary>
    public readonly NameSpans FindNames(ReadOnlySpan<byte> encoded)
    {
        int nodeLength = 0;
        int nodeSize;
        if (SenderNodeEncoded is { } node)
        {
            if (!encoded[SenderNodeOffset..].StartsWith(node))
            {
                return default;
            }

            nodeLength = nodeSize = node.Length;
        }
        else if (SenderNode is null)
        {
            nodeSize = 1; // nil
        }
        else
        {
            return default;
        }

        int contractAt = SenderNodeOffset + nodeSize + IntegerSize(SenderId) + IntegerSize(RecipientId);
        int contractLength = ContractEncoded is { } contract && contractAt < encoded.Length && encoded[contractAt..].StartsWith(contract) ? contract.Length : 0;
        return new NameSpans(SenderNodeOffset, nodeLength, contractAt, contractLength);
    }

    /// <summary>The bytes MessagePack's writer takes for <paramref name="value"/> (the shortest form).</summary>
    private static int IntegerSize(long value) => value switch
    {
        >= -32 and <= 127 => 1,
        >= sbyte.MinValue and <= byte.MaxValue => 2,
        >= short.MinValue and <= ushort.MaxValue => 3,
        >= int.MinValue and <= uint.MaxValue => 5,
        _ => 9,
    };

    /// <summary>Reads the header of the frame in <paramref name="data"/>.</summary>
    /// <exception cref="WireException">The frame is malformed; the message says how.</exception>
    public static Frame DecodeHeader(ReadOnlySpan<byte> data)
    {
        DecodeHeader(data, out Frame frame);
        return frame;
    }

    /// <summary>Reads the header of the frame in <paramref name="data"/> into <paramref name="frame"/> (no copy of a whole frame).</summary>
    /// <param name="data">The frame.</param>
    /// <param name="frame">Its header.</param>
    /// <param name="names">For a frame of a batch: the names of the frame before it, which <see cref="SameName"/> refers to; updated on success.</param>
    /// <returns>Where the payload starts in <paramref name="data"/>.</returns>
    /// <exception cref="WireException">The frame is malformed; the message says how.</exception>
    public static int DecodeHeader(ReadOnlySpan<byte> data, out Frame frame, BatchNames? names = null)
    {
        frame = default;
        var reader = new WireReader(data);
        int count = reader.ReadArrayHeader();
        if (count is not (Fields or FieldsWithSession))
        {
            throw new WireException($"a frame has {Fields} fields ({FieldsWithSession} with a session token), this one {count}");
        }

        long version = reader.ReadInt64();
        if (version != Version)
        {
            throw new WireException($"frame version {version} is not supported (this node speaks {Version})");
        }

        long kind = reader.ReadInt64();
        if (kind is < 1 or > (long)FrameKind.Ended)
        {
            throw new WireException($"frame kind {kind} is unknown");
        }

        frame.Kind = (FrameKind)kind;
        bool nodeIsToken = true; // a previous frame's name was checked when that frame was read
        frame.SenderNode = reader.TryReadSameName() ? Previous(names, reader.Position - 1).Node : reader.ReadInternedString(out nodeIsToken);
        frame.SenderId = reader.ReadInt64();
        frame.RecipientId = reader.ReadInt64();
        frame.Contract = reader.TryReadSameName() ? Previous(names, reader.Position - 1).Contract : reader.ReadInternedString(out _);
        frame.TraceParent = reader.ReadString();
        frame.ErrorCode = reader.ReadString();
        frame.ErrorText = reader.ReadString();
        frame.Flag = reader.ReadInt64();
        if (count == FieldsWithSession)
        {
            frame.Session = reader.ReadSession();
        }

        if (frame.SenderNode is not null && !nodeIsToken)
        {
            throw new WireException("the sender's node name is not valid");
        }

        if (reader.Position >= data.Length)
        {
            throw new WireException("the frame is truncated (it ends before its payload)");
        }

        names?.Read(frame.SenderNode, frame.Contract);
        return reader.Position;
    }

    private static BatchNames Previous(BatchNames? names, int at)
        => names is null ? throw new WireException($"the name at byte {at} refers to a previous frame, which only a frame in a batch of version 2 may do")
            : names.HasPrevious ? names
            : throw new WireException($"the name at byte {at} refers to the previous frame of the batch, which was not read");

    /// <summary>Reads the payload at <paramref name="offset"/> in <paramref name="data"/> with <paramref name="codec"/> (nil is null).</summary>
    /// <exception cref="WireException">The payload is not a valid value of the codec's type.</exception>
    public static object? ReadPayload(ReadOnlyMemory<byte> data, int offset, PayloadCodec codec)
    {
        if ((uint)offset >= (uint)data.Length)
        {
            throw new WireException("the frame is truncated (it ends before its payload)");
        }

        if (data.Span[offset] == 0xC0)
        {
            return null;
        }

        var reader = new MessagePackReader(data[offset..]);
        try
        {
            return codec.Read(ref reader);
        }
#pragma warning disable CA1031 // whatever a formatter throws on hostile bytes is a bad payload, never a crash
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            throw new WireException($"the payload is not a valid {codec.Type.Name} ({ex.InnerException?.Message ?? ex.Message})", ex);
        }
    }
}
