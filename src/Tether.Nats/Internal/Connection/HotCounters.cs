using System.Runtime.InteropServices;

namespace Tether.Nats.Internal;

/// <summary>
/// The broker proxy's counters that change for every frame or request, each group on a cache line of its own, away from
/// the proxy's read-mostly fields. In the proxy object, the socket reader's count of every frame received shared a line
/// with fields every sender reads for every frame sent, so the line moved between cores for each frame. Groups are at
/// least 64 bytes apart (objects are only 8-byte aligned, so that is what keeps them off a shared line).
/// </summary>
[StructLayout(LayoutKind.Explicit)]
internal sealed class HotCounters
{
    /// <summary>Frames received (the socket reader).</summary>
    [FieldOffset(64)]
    public long Received;

    /// <summary>Batch frames received (the socket reader).</summary>
    [FieldOffset(72)]
    public long BatchesReceived;

    /// <summary>Frames sent (the thread that publishes).</summary>
    [FieldOffset(144)]
    public long Sent;

    /// <summary>NATS messages published (the thread that publishes).</summary>
    [FieldOffset(152)]
    public long Published;

    /// <summary>The last batch number given to a batch of requests (the thread that publishes).</summary>
    [FieldOffset(160)]
    public long NextBatch;

    /// <summary>The last correlation given to a request (every requesting thread).</summary>
    [FieldOffset(232)]
    public long NextCorrelation;

    /// <summary>Keeps the line of <see cref="NextCorrelation"/> from the next object in memory.</summary>
    [FieldOffset(304)]
    public long End;
}
