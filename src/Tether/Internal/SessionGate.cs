namespace Tether.Internal;

/// <summary>
/// The mailbox's check of protected input channels (<see cref="Channels{TSelf}.Requires"/>), and the messages parked
/// while a session is verified elsewhere. One gate per target cell, created on the first parked message.
/// </summary>
/// <remarks>
/// Order: once a sender has a parked message, every later message from that sender to this target waits behind it
/// (protected or not), so one sender's messages are still handled in the order sent. Other senders are not held up.
/// Only the cell's consumer touches the gate (the verification's completion comes back as a system message), so it
/// needs no lock. Bounded: at most the mailbox capacity parked messages per target; beyond, the mailbox is full.
/// </remarks>
internal sealed class SessionGate
{
    private readonly Dictionary<Address, Queue<Parked>> _bySender = [];
    private int _count;

    /// <summary>Parked messages in all senders' queues.</summary>
    public int Count => _count;

    /// <summary>True when <paramref name="sender"/> has parked messages that a new one must wait behind.</summary>
    public bool Holds(Address sender) => _count > 0 && _bySender.ContainsKey(sender);

    /// <summary>Parks behind the sender's earlier messages. False when it is the sender's first: the caller starts its verification.</summary>
    public bool Park(Envelope envelope, ChannelHandler handler)
    {
        envelope.Held = true; // the gate owns it now; it is recycled once handled or refused
        _count++;
        if (_bySender.TryGetValue(envelope.Sender, out Queue<Parked>? queue))
        {
            queue.Enqueue(new Parked(envelope, handler));
            return true;
        }

        queue = new Queue<Parked>();
        queue.Enqueue(new Parked(envelope, handler));
        _bySender.Add(envelope.Sender, queue);
        return false;
    }

    /// <summary>The oldest parked message of <paramref name="sender"/>, left in place.</summary>
    public bool TryPeek(Address sender, out Parked parked)
    {
        if (_bySender.TryGetValue(sender, out Queue<Parked>? queue) && queue.TryPeek(out parked))
        {
            return true;
        }

        parked = default;
        return false;
    }

    /// <summary>Removes the oldest parked message of <paramref name="sender"/> (after <see cref="TryPeek"/>).</summary>
    public void Dequeue(Address sender)
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
}

/// <summary>A parked message's verification finished (on some thread); the cell's consumer acts on it.</summary>
internal sealed record SessionVerified(Address Sender, SessionVerdict Verdict);
