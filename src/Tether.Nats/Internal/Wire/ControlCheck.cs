namespace Tether.Nats.Internal;

/// <summary>
/// The check value of a control frame that nothing else vouches for: an End from outside any target (sender id 0), a
/// Watch, an Unwatch and an Ended frame. An End from a target, a Renew or an owner's end is honoured only for the
/// instance's owner (a random frame cannot name it); these four name no owner, so without a check a random mutation of
/// some other frame (a flipped kind byte and sender id turn a request into an End from outside) could end or un-watch a
/// target. The sender puts a 64-bit value derived from the frame's fields and both node names in the frame's flag
/// field; the receiver recomputes it and refuses (counts as a bad frame) a frame whose value does not match.
/// </summary>
/// <remarks>
/// This guards against damaged and fuzzed frames, not against a deliberate forger, who can compute the value: keeping
/// strangers off the subjects is the job of the NATS server's credentials. The value always has bit 62 set, so it is
/// never a small integer (a flag of 0 or 1, as other frames carry, is never a valid check value, flipped or not).
/// Deterministic across processes and releases: never <see cref="string.GetHashCode()"/>, which is randomized per process.
/// </remarks>
internal static class ControlCheck
{
    private const ulong Prime = 0x9E3779B97F4A7C15;

    /// <summary>The check value of a frame of <paramref name="kind"/> from <paramref name="senderNode"/>/<paramref name="senderId"/> to <paramref name="recipientNode"/>/<paramref name="recipientId"/>.</summary>
    public static long Of(FrameKind kind, string senderNode, long senderId, string recipientNode, long recipientId)
    {
        ulong h = 0x7465_7468_6572_2D63; // "tether-c"
        h = Mix(h, (ulong)kind);
        h = Mix(h, senderNode);
        h = Mix(h, (ulong)senderId);
        h = Mix(h, recipientNode);
        h = Mix(h, (ulong)recipientId);
        h = Final(h);
        return (long)((h & 0x3FFF_FFFF_FFFF_FFFFUL) | 0x4000_0000_0000_0000UL);
    }

    /// <summary>Whether <paramref name="frame"/>, received by node <paramref name="recipientNode"/>, carries its check value.</summary>
    public static bool Holds(in Frame frame, string recipientNode)
        => frame.SenderNode is { } sender && frame.Flag == Of(frame.Kind, sender, frame.SenderId, recipientNode, frame.RecipientId);

    private static ulong Mix(ulong h, string text)
    {
        h = Mix(h, (ulong)text.Length);
        foreach (char c in text)
        {
            h = Mix(h, c);
        }

        return h;
    }

    private static ulong Mix(ulong h, ulong value)
    {
        h ^= value;
        h *= Prime;
        return h ^ (h >> 31);
    }

    /// <summary>MurmurHash3's 64-bit finalizer: every input bit reaches every output bit.</summary>
    private static ulong Final(ulong h)
    {
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCD;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53;
        return h ^ (h >> 33);
    }
}
