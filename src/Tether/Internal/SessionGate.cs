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

    /// <summary>Verdicts whose parked message the cell handled on the verdict's own thread (for tests; the consumer alone writes it).</summary>
    public int VerdictsRunHere;

    /// <summary>Parked messages in all senders' queues.</summary>
    public int Count => _count;

    /// <summary>True when the sender has parked messages under the same session that <paramref name="envelope"/> must wait behind (<paramref name="stream"/>: its stream, for <see cref="Park"/>).</summary>
    public bool Holds(Envelope envelope, out Stream stream)
    {
        if (_count == 0)
        {
            stream = default;
            return false;
        }

        stream = new Stream(envelope.Sender, envelope.Session);
        return _bySender.ContainsKey(stream);
    }

    /// <summary>
    /// Parks behind the sender's earlier messages (<paramref name="stream"/> is the envelope's sender and session). False
    /// when it is the sender's first: the caller starts its verification.
    /// </summary>
    public bool Park(Envelope envelope, ChannelHandler handler, Stream stream)
    {
        envelope.Held = true; // the gate owns it now; it is recycled once handled or refused
        _count++;
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
    /// <remarks>
    /// The hash is computed once, when the stream is made: a session token is a few hundred characters, and one parked
    /// message's stream is looked up several times (park, verdict, dequeue) with the same value.
    /// </remarks>
    internal readonly struct Stream : IEquatable<Stream>
    {
        private readonly int _hash;

        public Stream(Address sender, string? session)
        {
            Sender = sender;
            Session = session;
            _hash = HashCode.Combine(sender, session is null ? 0 : StringComparer.Ordinal.GetHashCode(session));
        }

        public Address Sender { get; }

        public string? Session { get; }

        public bool Equals(Stream other) => _hash == other._hash && Sender == other.Sender && string.Equals(Session, other.Session, StringComparison.Ordinal);

        public override bool Equals(object? obj) => obj is Stream other && Equals(other);

        public override int GetHashCode() => _hash;
    }
}
