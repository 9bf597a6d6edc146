using System.Collections.Concurrent;
using Tether.Nats.Internal;

namespace Tether.Nats.Tests;

/// <summary>
/// What an outbox published, kept in order as the bytes each NATS message would carry, and read back frame by frame
/// as the proxy reads them (a batch with the names its frames refer to).
/// </summary>
internal sealed class PublishedFrames
{
    private int _frames;

    /// <summary>A frame read back: its header, its bytes and where its payload starts in them.</summary>
    public delegate void Visitor(in Frame frame, ReadOnlyMemory<byte> bytes, int payloadAt);

    /// <summary>The messages, in the order they were published (one writer at a time publishes).</summary>
    public ConcurrentQueue<byte[]> Messages { get; } = new();

    /// <summary>How many frames were published so far.</summary>
    public int Frames => Volatile.Read(ref _frames);

    /// <summary>Reads each frame of <paramref name="message"/> (a lone frame or a batch) and hands it to <paramref name="visit"/>.</summary>
    /// <returns>How many frames it held.</returns>
    public static int Read(byte[] message, Visitor visit)
    {
        if (!Frame.IsBatch(message))
        {
            int at = Frame.DecodeHeader(message, out Frame alone);
            visit(alone, message, at);
            return 1;
        }

        var reader = new WireReader(message);
        var names = new BatchNames();
        int count = Frame.DecodeBatchHeader(ref reader);
        for (int i = 0; i < count; i++)
        {
            Frame.DecodeBatchItem(ref reader, message, out _, out _, out ReadOnlyMemory<byte> bytes);
            names.Next();
            int payloadAt = Frame.DecodeHeader(bytes.Span, out Frame frame, names);
            visit(frame, bytes, payloadAt);
        }

        return count;
    }

    /// <summary>An outbox that publishes here.</summary>
    public Outbox NewOutbox(int maxFrameBytes, FlushGuard guard) => new(
        "test.batch",
        "test",
        (_, segment) =>
        {
            Messages.Enqueue((segment.Items.Count == 1 ? segment.FrameOf(segment.Items[0]) : segment.AsBatch()).ToArray());
            Interlocked.Add(ref _frames, segment.Items.Count);
            return ValueTask.CompletedTask;
        },
        (_, _, ex) => throw new InvalidOperationException("publishing failed", ex),
        maxFrameBytes,
        guard);
}
