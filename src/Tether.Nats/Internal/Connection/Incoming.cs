namespace Tether.Nats.Internal;

/// <summary>
/// One frame as received: from its own NATS message, or unpacked from a batch (then <see cref="Subject"/> is the
/// batch's subject, <see cref="ReplyTo"/> the frame's own reply subject and <see cref="Correlation"/> the item's correlation).
/// </summary>
/// <param name="Subject">The NATS subject it arrived on.</param>
/// <param name="ReplyTo">Where an answer goes, if anywhere.</param>
/// <param name="Data">The frame's bytes.</param>
/// <param name="HasNoResponders">The server's "no responders" status for a request of ours.</param>
/// <param name="Correlation">
/// For an item of a batch, its correlation: the one a reply answers, or the one a request is to be answered to; 0
/// otherwise (a reply's is then read from the subject).
/// </param>
/// <param name="Replies">
/// For a request in a batch that names no reply subject of its own: the reply outbox of the batch's sender, to which the
/// answer goes with <see cref="Correlation"/>.
/// </param>
/// <param name="Names">For an item of a batch, the names of the item before it (see <see cref="Frame.SameName"/>).</param>
internal readonly record struct Incoming(string Subject, string? ReplyTo, ReadOnlyMemory<byte> Data, bool HasNoResponders = false, long Correlation = 0, Outbox? Replies = null, BatchNames? Names = null)
{
    public static Incoming From(NATS.Client.Core.NatsMsg<byte[]> msg)
        => new(msg.Subject, msg.ReplyTo, msg.Data ?? ReadOnlyMemory<byte>.Empty, msg.HasNoResponders);

    /// <summary>True when an answer to this frame can go somewhere.</summary>
    public bool CanAnswer => ReplyTo is not null || (Replies is not null && Correlation > 0);
}
