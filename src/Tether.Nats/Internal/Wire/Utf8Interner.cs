using System.Text;

namespace Tether.Nats.Internal;

/// <summary>
/// Reads the short strings every frame repeats (node names, contract names) without allocating or validating each
/// time: a small fixed table of recently seen UTF-8 forms, their strings, and whether each is a valid subject token.
/// A miss decodes as usual and takes the slot.
/// </summary>
internal static class Utf8Interner
{
    private const int Slots = 256;
    private const int MaxLength = 64;
    private static readonly Entry?[] s_table = new Entry?[Slots];

    /// <summary>The string of <paramref name="utf8"/>, interned when it is short; <paramref name="isToken"/> as <see cref="BrokerOptions.IsToken"/>.</summary>
    public static string Intern(ReadOnlySpan<byte> utf8, out bool isToken)
    {
        if (utf8.Length > MaxLength)
        {
            string text = Encoding.UTF8.GetString(utf8);
            isToken = BrokerOptions.IsToken(text);
            return text;
        }

        int slot = Hash(utf8) & (Slots - 1);
        Entry? entry = Volatile.Read(ref s_table[slot]);
        if (entry is null || !utf8.SequenceEqual(entry.Utf8))
        {
            string text = Encoding.UTF8.GetString(utf8);
            entry = new Entry(utf8.ToArray(), text, BrokerOptions.IsToken(text));
            Volatile.Write(ref s_table[slot], entry);
        }

        isToken = entry.IsToken;
        return entry.Text;
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

    private sealed record Entry(byte[] Utf8, string Text, bool IsToken);
}
