using System.Text;
using MessagePack;

namespace Tether.Nats.Internal;

/// <summary>
/// Reads the short strings every frame repeats (node names, contract names) without allocating each time: a small
/// fixed table of recently seen UTF-8 forms and their strings. A miss decodes as usual and takes the slot.
/// </summary>
internal static class Utf8Interner
{
    private const int Slots = 256;
    private const int MaxLength = 64;
    private static readonly Entry?[] s_table = new Entry?[Slots];

    /// <summary>Reads a string (or nil) at the reader, interned when it is short.</summary>
    public static string? ReadString(ref MessagePackReader reader)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        if (!reader.TryReadStringSpan(out ReadOnlySpan<byte> utf8))
        {
            return reader.ReadString(); // not contiguous in the buffer: the ordinary way
        }

        if (utf8.Length > MaxLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        int slot = Hash(utf8) & (Slots - 1);
        Entry? entry = Volatile.Read(ref s_table[slot]);
        if (entry is not null && utf8.SequenceEqual(entry.Utf8))
        {
            return entry.Text;
        }

        string text = Encoding.UTF8.GetString(utf8);
        Volatile.Write(ref s_table[slot], new Entry(utf8.ToArray(), text));
        return text;
    }

    private static int Hash(ReadOnlySpan<byte> utf8)
    {
        uint hash = 2166136261;
        foreach (byte b in utf8)
        {
            hash = (hash ^ b) * 16777619;
        }

        return (int)(hash ^ (hash >> 16));
    }

    private sealed record Entry(byte[] Utf8, string Text);
}
