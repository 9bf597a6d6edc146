namespace Tether.Nats.Internal;

/// <summary>
/// What a receiving node counts of one sender node's frames (see <see cref="FlowControl"/>). <see cref="Received"/> is
/// written by the socket reader alone; <see cref="Parked"/> by the reader (up) and the drain (down).
/// </summary>
internal sealed class FlowIn(string node)
{
    public string Node { get; } = node;

    /// <summary>The sender's epoch (from its hello; 0 before one).</summary>
    public long Epoch;

    /// <summary>Frames of this sender done with on the inbox (parked ones included), ever.</summary>
    public long Received;

    /// <summary>Frames of this sender parked now.</summary>
    public long Parked;

    /// <summary><see cref="Received"/> when the current epoch began.</summary>
    public long Base;

    /// <summary>Sends of this sender dropped past the park limit, ever; and their count when the epoch began.</summary>
    public long Dropped;

    public long DroppedBase;

    /// <summary>The local id of the last target a send was dropped for.</summary>
    public long LastDropped;

    /// <summary>What the last report said was taken.</summary>
    public long Reported;

    public long ReportedAt;

    /// <summary>Frames taken in the current epoch: received and not parked. Read <see cref="Received"/> before <see cref="Parked"/>, so a frame being parked is never counted taken.</summary>
    public long Taken
    {
        get
        {
            long received = Volatile.Read(ref Received);
            return received - Volatile.Read(ref Parked) - Volatile.Read(ref Base);
        }
    }

    /// <summary>A hello: counting starts again under <paramref name="epoch"/> (on the socket reader, as <see cref="Received"/> is written).</summary>
    public void Restart(long epoch)
    {
        Volatile.Write(ref Base, Received - Volatile.Read(ref Parked));
        DroppedBase = Interlocked.Read(ref Dropped);
        Reported = 0;
        Volatile.Write(ref Epoch, epoch);
    }
}
