using System.Buffers.Binary;
using System.Text;

namespace Tether.Nats.Internal;

/// <summary>
/// A forward-only reader of the MessagePack the envelope uses (arrays, integers, strings, binary, nil) over one
/// contiguous buffer: what a frame's header and a batch's items need, without the general reader's sequence machinery.
/// Anything else, or a value cut short, is a <see cref="WireException"/> that says what and where.
/// </summary>
internal ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _data;

    public WireReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        Position = 0;
    }

    /// <summary>The offset of the next value in the buffer.</summary>
    public int Position { get; private set; }

    public int ReadArrayHeader()
    {
        int at = Position;
        byte code = Next();
        return code switch
        {
            >= 0x90 and <= 0x9F => code & 0x0F,
            0xDC => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xDD => Length(BinaryPrimitives.ReadUInt32BigEndian(Take(4)), at),
            _ => throw Unexpected(code, at, "an array"),
        };
    }

    public long ReadInt64()
    {
        int at = Position;
        byte code = Next();
        switch (code)
        {
            case <= 0x7F:
                return code;
            case >= 0xE0:
                return (sbyte)code;
            case 0xCC:
                return Take(1)[0];
            case 0xCD:
                return BinaryPrimitives.ReadUInt16BigEndian(Take(2));
            case 0xCE:
                return BinaryPrimitives.ReadUInt32BigEndian(Take(4));
            case 0xCF:
                ulong value = BinaryPrimitives.ReadUInt64BigEndian(Take(8));
                return value <= long.MaxValue ? (long)value : throw new WireException($"the integer at byte {at} does not fit in 64 signed bits");
            case 0xD0:
                return (sbyte)Take(1)[0];
            case 0xD1:
                return BinaryPrimitives.ReadInt16BigEndian(Take(2));
            case 0xD2:
                return BinaryPrimitives.ReadInt32BigEndian(Take(4));
            case 0xD3:
                return BinaryPrimitives.ReadInt64BigEndian(Take(8));
            default:
                throw Unexpected(code, at, "an integer");
        }
    }

    /// <summary>Reads a string's UTF-8 bytes (a slice of the buffer); false for nil.</summary>
    public bool TryReadStringSpan(out ReadOnlySpan<byte> utf8)
    {
        int at = Position;
        byte code = Next();
        int length = code switch
        {
            >= 0xA0 and <= 0xBF => code & 0x1F,
            0xD9 => Take(1)[0],
            0xDA => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xDB => Length(BinaryPrimitives.ReadUInt32BigEndian(Take(4)), at),
            0xC0 => -1,
            _ => throw Unexpected(code, at, "a string"),
        };
        utf8 = length < 0 ? default : Take(length);
        return length >= 0;
    }

    public string? ReadString() => TryReadStringSpan(out ReadOnlySpan<byte> utf8) ? Encoding.UTF8.GetString(utf8) : null;

    /// <summary>Reads a string through <see cref="Utf8Interner"/> (the names every frame repeats); <paramref name="isToken"/> says whether it is a valid subject token.</summary>
    public string? ReadInternedString(out bool isToken)
    {
        if (TryReadStringSpan(out ReadOnlySpan<byte> utf8))
        {
            return Utf8Interner.Intern(utf8, out isToken);
        }

        isToken = false;
        return null;
    }

    /// <summary>
    /// Reads a frame's session token (nil is none), at most <see cref="Frame.MaxSessionBytes"/> long. The same token
    /// as the last one read on this thread is the same string (a user's messages repeat it): no allocation, and a
    /// cache of verified tokens keyed by it hits at once.
    /// </summary>
    public string? ReadSession()
    {
        int at = Position;
        bool present;
        ReadOnlySpan<byte> utf8;
        try
        {
            present = TryReadStringSpan(out utf8);
        }
        catch (WireException ex)
        {
            throw new WireException($"the session token at byte {at} is not valid: {ex.Message}", ex);
        }

        if (!present)
        {
            return null;
        }

        if (utf8.Length > Frame.MaxSessionBytes)
        {
            throw new WireException($"the session token at byte {at} has {utf8.Length} bytes, more than the {Frame.MaxSessionBytes} allowed");
        }

        if (t_lastSession is { } last && utf8.SequenceEqual(t_lastSessionUtf8))
        {
            return last;
        }

        string session;
        try
        {
            session = s_strictUtf8.GetString(utf8);
        }
        catch (DecoderFallbackException ex)
        {
            throw new WireException($"the session token at byte {at} is not valid UTF-8", ex);
        }

        t_lastSessionUtf8 = utf8.ToArray();
        t_lastSession = session;
        return session;
    }

    [ThreadStatic]
    private static string? t_lastSession;

    [ThreadStatic]
    private static byte[]? t_lastSessionUtf8;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads the marker "the previous frame's name" if it is next; false (nothing read) otherwise.</summary>
    public bool TryReadSameName()
    {
        if (Position < _data.Length && _data[Position] == Frame.SameName)
        {
            Position++;
            return true;
        }

        return false;
    }

    /// <summary>Reads binary data: where it lies in the buffer; false for nil.</summary>
    public bool TryReadBinary(out int offset, out int length)
    {
        int at = Position;
        byte code = Next();
        length = code switch
        {
            0xC4 => Take(1)[0],
            0xC5 => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xC6 => Length(BinaryPrimitives.ReadUInt32BigEndian(Take(4)), at),
            0xC0 => -1,
            _ => throw Unexpected(code, at, "binary data"),
        };
        offset = Position;
        if (length < 0)
        {
            length = 0;
            return false;
        }

        Take(length);
        return true;
    }

    private byte Next()
    {
        if (Position >= _data.Length)
        {
            throw new WireException($"the frame is truncated at byte {Position}");
        }

        return _data[Position++];
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - Position)
        {
            throw new WireException($"the frame is truncated: {count} bytes announced at byte {Position}, {_data.Length - Position} left");
        }

        ReadOnlySpan<byte> slice = _data.Slice(Position, count);
        Position += count;
        return slice;
    }

    private static int Length(uint length, int at)
        => length <= int.MaxValue ? (int)length : throw new WireException($"the length at byte {at} is out of range ({length})");

    private static WireException Unexpected(byte code, int at, string expected)
        => new($"expected {expected} at byte {at}, found 0x{code:X2}");
}
