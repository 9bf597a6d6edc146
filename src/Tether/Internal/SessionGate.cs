namespace Tether.Internal;

/// <summary>
/// The mailbox's check of protected input channels (<see cref="Channels{TSelf}.Requires"/>), and the messages parked
/// while a session is verified elsewhere. One gate per target cell, created on the first parked message.
/// </summary>
/// <remarks>
/// Order: once a sender has a parked message, every later message from that sender with the same session waits behind it
/// (protected or not), so one sender's messages are still handled in the order sent. Other senders are not held up, nor
/// the same sender's messages under another session (or none): among them the request the verifier itself makes to a
/// session manager living on this very target, which must never wait behind the message it verifies.
/// Only the cell's consumer touches the gate (a verdict is acted on by whoever holds the cell's run: the verdict's own
/// thread when it takes the idle cell's run, else the consumer, through a system message), so it needs no lock. Bounded: at most the mailbox capacity parked messages per target; beyond, the mailbox is full.
/// </remarks>
internal sealed class SessionGate
{
    private readonly Dictionary<Stream, Queue<Parked>> _bySender = [];
    private int _count;

    /// <summary>Parked messages in all senders' queues.</summary>
    public int Count => _count;

    /// <summary>True when the sender has parked messages under the same session that <paramref name="envelope"/> must wait behind.</summary>
    public bool Holds(Envelope envelope) => _count > 0 && _bySender.ContainsKey(new Stream(envelope.Sender, envelope.Session));

    /// <summary>Parks behind the sender's earlier messages. False when it is the sender's first: the caller starts its verification.</summary>
    public bool Park(Envelope envelope, ChannelHandler handler)
    {
        envelope.Held = true; // the gate owns it now; it is recycled once handled or refused
        _count++;
        var stream = new Stream(envelope.Sender, envelope.Session);
        if (_bySender.TryGetValue(stream, out Queue<Parked>? queue))
        {
            queue.Enqueue(new Parked(envelope, handler));
            return true;
        }

        queue = new Queue<Parked>();
        queue.Enqueue(new Parked(envelope, handler));
        _bySender.Add(stream, queue);
        return false;
    }

    /// <summary>The oldest parked message of <paramref name="sender"/>, left in place.</summary>
    public bool TryPeek(Stream sender, out Parked parked)
    {
        if (_bySender.TryGetValue(sender, out Queue<Parked>? queue) && queue.TryPeek(out parked))
        {
            return true;
        }

        parked = default;
        return false;
    }

    /// <summary>Removes the oldest parked message of <paramref name="sender"/> (after <see cref="TryPeek"/>).</summary>
    public void Dequeue(Stream sender)
    {
        Queue<Parked> queue = _bySender[sender];
        queue.Dequeue();
        _count--;
        if (queue.Count == 0)
        {
            _bySender.Remove(sender);
        }
    }

    /// <summary>Takes every parked message (the target is ending).</summary>
    public List<Parked> DrainAll()
    {
        var all = new List<Parked>(_count);
        foreach (Queue<Parked> queue in _bySender.Values)
        {
            all.AddRange(queue);
        }

        _bySender.Clear();
        _count = 0;
        return all;
    }

    internal readonly record struct Parked(Envelope Envelope, ChannelHandler Handler);

    /// <summary>One sender's messages under one session (ordinal): the unit whose order parking keeps.</summary>
    internal readonly record struct Stream(Address Sender, string? Session)
    {
        public bool Equals(Stream other) => Sender == other.Sender && string.Equals(Session, other.Session, StringComparison.Ordinal);

        public override int GetHashCode() => HashCode.Combine(Sender, Session is null ? 0 : StringComparer.Ordinal.GetHashCode(Session));
    }
}
