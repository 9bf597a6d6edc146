namespace Tether.Nats.Internal;

/// <summary>
/// One frame as received: from its own NATS message, or unpacked from a batch (then <see cref="Subject"/> is the
/// batch's subject, <see cref="ReplyTo"/> the frame's own reply subject and <see cref="Correlation"/> the reply's correlation).
/// </summary>
/// <param name="Subject">The NATS subject it arrived on.</param>
/// <param name="ReplyTo">Where an answer goes, if anywhere.</param>
/// <param name="Data">The frame's bytes.</param>
/// <param name="HasNoResponders">The server's "no responders" status for a request of ours.</param>
/// <param name="Correlation">For a reply unpacked from a batch, the correlation it answers; 0 otherwise (read from the subject).</param>
internal readonly record struct Incoming(string Subject, string? ReplyTo, ReadOnlyMemory<byte> Data, bool HasNoResponders = false, long Correlation = 0)
{
    public static Incoming From(NATS.Client.Core.NatsMsg<byte[]> msg)
        => new(msg.Subject, msg.ReplyTo, msg.Data ?? ReadOnlyMemory<byte>.Empty, msg.HasNoResponders);
}
