using System.Buffers;
using NATS.Client.Core;

namespace Tether.Nats.Internal;

/// <summary>
/// A subscription whose messages are handled on NATS.Net's socket reader, straight from its buffer: no channel, no
/// hop to another thread, no byte array per message. Used for the node's inbox and reply subjects, whose handlers
/// only decode and hand over (to a mailbox, or to a waiting request whose continuation runs elsewhere).
/// </summary>
/// <remarks>The handler must not keep <see cref="Incoming.Data"/> after it returns: the buffer belongs to the reader.</remarks>
internal sealed class InlineSub : NatsSubBase
{
    private static readonly byte[] NoResponders = "NATS/1.0 503"u8.ToArray();
    private readonly Action<Incoming> _handle;

    // One message at a time, also across a reconnect: the old connection's reader may still be handing over the last
    // message it read while the new connection's reader starts (a slow consumer cut off by the server is in just that
    // state), and two readers at once would break the order per sender. Uncontended, it costs one lock per NATS message.
    private readonly Lock _order = new();

    public InlineSub(NatsConnection connection, string subject, Action<Incoming> handle, CancellationToken cancellation)
        : base(connection, connection.SubscriptionManager, subject, queueGroup: null, opts: null, cancellation)
        => _handle = handle;

    protected override ValueTask ReceiveInternalAsync(string subject, string? replyTo, ReadOnlySequence<byte>? headersBuffer, ReadOnlySequence<byte> payloadBuffer)
    {
        bool noResponders = headersBuffer is { } headers && payloadBuffer.IsEmpty && StartsWith(headers, NoResponders);
        if (payloadBuffer.IsSingleSegment)
        {
            lock (_order)
            {
                _handle(new Incoming(subject, replyTo, payloadBuffer.First, noResponders));
            }

            return ValueTask.CompletedTask;
        }

        // Spread over the reader's buffer segments (a large batch usually is): copied into a pooled buffer, which the
        // handler does not keep, instead of a new array per message.
        int length = checked((int)payloadBuffer.Length);
        byte[] copy = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            payloadBuffer.CopyTo(copy);
            lock (_order)
            {
                _handle(new Incoming(subject, replyTo, copy.AsMemory(0, length), noResponders));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }

        return ValueTask.CompletedTask;
    }

    protected override void TryComplete()
    {
    }

    private static bool StartsWith(ReadOnlySequence<byte> headers, byte[] prefix)
    {
        if (headers.Length < prefix.Length)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[prefix.Length];
        headers.Slice(0, prefix.Length).CopyTo(head);
        return head.SequenceEqual(prefix);
    }
}
