using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using MessagePack;

namespace Tether.Nats.Internal;

/// <summary>
/// Everything this node sends to one destination (a peer's inbox, or a peer's replies), coalesced under load.
/// </summary>
/// <remarks>
/// <para>
/// Producers encode their frame straight into the destination's current <see cref="Segment"/> (under a short lock: no
/// per-frame buffer). One writer at a time publishes: when the destination was idle (nothing written for
/// <see cref="IdleTicks"/>) the producer publishes its own frame at once, as a plain frame, so a lone request pays
/// nothing. Otherwise a writer loop on the thread pool takes whatever accumulated and publishes it as one NATS message,
/// a batch frame (<see cref="Frame.BatchKind"/>); frames keep the order in which they were appended, and segments are
/// published in order, one at a time, so the order per sender and receiver holds.
/// </para>
/// <para>
/// A batch never exceeds <see cref="_batchLimit"/> (at most <see cref="BrokerOptions.MaxFrameBytes"/>): a frame that
/// would overflow the current segment starts the next one, so a burst larger than a frame is split, never refused.
/// </para>
/// </remarks>
internal sealed class Outbox : IThreadPoolWorkItem
{
    /// <summary>A destination silent for this long is idle: the next frame goes out at once, on the caller's thread.</summary>
    private static readonly long IdleTicks = Stopwatch.Frequency / 20_000; // 50 µs

    private readonly Lock _gate = new();
    private readonly Queue<Segment> _ready = new();
    private readonly Segment?[] _free = new Segment?[4]; // recycled segments, taken and returned without the lock
    private readonly Func<Outbox, Segment, ValueTask> _publish;
    private readonly Action<Outbox, Segment, Exception> _failed;
    private readonly int _batchLimit;
    private readonly int _maxFrame;
    private Segment? _filling;
    private bool _writing;
    private long _lastAppend;

    /// <param name="batchSubject">Where batches go (a plain frame goes to its own subject).</param>
    /// <param name="destination">Names the destination in errors ("node X").</param>
    /// <param name="publish">Publishes a segment: its only frame as is, or the whole batch.</param>
    /// <param name="failed">Called when publishing a segment failed (its requests must fail).</param>
    /// <param name="maxFrameBytes">The largest frame, and the bound of a batch.</param>
    public Outbox(string batchSubject, string destination, Func<Outbox, Segment, ValueTask> publish, Action<Outbox, Segment, Exception> failed, int maxFrameBytes)
    {
        BatchSubject = batchSubject;
        Destination = destination;
        _publish = publish;
        _failed = failed;
        _maxFrame = maxFrameBytes;
        _batchLimit = Math.Min(maxFrameBytes, BatchBytes);
    }

    /// <summary>The soft size of a batch: large enough to carry hundreds of small frames, small enough to flow.</summary>
    public const int BatchBytes = 64 * 1024;

    public string BatchSubject { get; }

    public string Destination { get; }

    /// <summary>
    /// Appends one frame bound for <paramref name="subject"/> (with its NATS reply subject, and the correlation of a
    /// reply) and sees that it is published.
    /// </summary>
    /// <returns>0 when accepted; otherwise the frame's size, which exceeds <see cref="BrokerOptions.MaxFrameBytes"/> (nothing was sent).</returns>
    /// <exception cref="MessagePackSerializationException">The payload could not be serialized (nothing was sent).</exception>
    public int Append(in Frame frame, Type? payloadType, object? payload, MessagePackSerializerOptions options, string subject, string? replyTo, long correlation, PendingRemote? pending)
    {
        Segment? inline = null;
        bool schedule = false;
        lock (_gate)
        {
            Segment segment = _filling ??= Rent();
            int itemStart = segment.Length;
            int frameStart;
            try
            {
                var writer = new MessagePackWriter(segment);
                writer.WriteArrayHeader(3);
                writer.Write(correlation);
                writer.Write(replyTo);
                writer.Flush();
                frameStart = segment.Reserve(5) + 5; // bin32 header, patched below
                frame.EncodeTo(segment, payloadType, payload, options);
            }
            catch
            {
                segment.Length = itemStart;
                throw;
            }

            int frameLength = segment.Length - frameStart;
            if (frameLength > _maxFrame)
            {
                segment.Length = itemStart;
                return frameLength;
            }

            segment.Buffer[frameStart - 5] = 0xC6;
            BinaryPrimitives.WriteInt32BigEndian(segment.Buffer.AsSpan(frameStart - 4), frameLength);
            if (segment.Items.Count > 0 && segment.Length > _batchLimit)
            {
                // The batch is full: seal it without this frame, which starts the next one.
                Segment next = Rent();
                int moved = segment.Length - itemStart;
                int at = next.Reserve(moved);
                segment.Buffer.AsSpan(itemStart, moved).CopyTo(next.Buffer.AsSpan(at));
                frameStart = at + (frameStart - itemStart);
                segment.Length = itemStart;
                _ready.Enqueue(segment);
                _filling = segment = next;
            }

            segment.Items.Add(new Item(frameStart, frameLength, subject, replyTo, correlation, pending));
            long now = Stopwatch.GetTimestamp();
            bool idle = now - _lastAppend > IdleTicks;
            _lastAppend = now;
            if (!_writing)
            {
                _writing = true;
                if (idle && _ready.Count == 0 && segment.Items.Count == 1)
                {
                    inline = segment;
                    _filling = null;
                }
                else
                {
                    schedule = true;
                }
            }
        }

        if (inline is not null)
        {
            // Idle: out at once on this thread; whatever others append meanwhile waits for the writer.
            if (Publish(inline))
            {
                Finished();
            }
        }
        else if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        return 0;
    }

    /// <summary>The writer loop: publishes what accumulated, segment by segment, until nothing is left.</summary>
    public void Execute()
    {
        while (true)
        {
            Segment? next;
            lock (_gate)
            {
                if (!_ready.TryDequeue(out next))
                {
                    if (_filling is not { Items.Count: > 0 })
                    {
                        _writing = false;
                        return;
                    }

                    next = _filling;
                    _filling = null;
                }
            }

            if (!Publish(next))
            {
                return; // an asynchronous publish goes on with the loop when it completes
            }
        }
    }

    /// <summary>Publishes one segment; false when it completes asynchronously (the continuation then resumes the writer).</summary>
    private bool Publish(Segment segment)
    {
        ValueTask publishing;
        try
        {
            publishing = _publish(this, segment);
        }
#pragma warning disable CA1031 // a failed publish fails the segment's requests; it never kills the writer
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _failed(this, segment, ex);
            Recycle(segment);
            return true;
        }

        if (publishing.IsCompletedSuccessfully)
        {
            Recycle(segment);
            return true;
        }

        _ = CompleteAsync(publishing, segment);
        return false;
    }

    private async Task CompleteAsync(ValueTask publishing, Segment segment)
    {
        try
        {
            await publishing.ConfigureAwait(false);
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _failed(this, segment, ex);
        }

        Recycle(segment);
        Execute();
    }

    /// <summary>After an inline publish: hand over to the writer if others appended meanwhile.</summary>
    private void Finished()
    {
        lock (_gate)
        {
            if (_ready.Count == 0 && _filling is not { Items.Count: > 0 })
            {
                _writing = false;
                return;
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    private Segment Rent()
    {
        Segment? segment = null;
        for (int i = 0; i < _free.Length && segment is null; i++)
        {
            segment = Interlocked.Exchange(ref _free[i], null);
        }

        segment ??= new Segment();
        segment.Start();
        return segment;
    }

    private void Recycle(Segment segment)
    {
        segment.Clear();
        if (segment.Buffer.Length > 2 * BatchBytes)
        {
            return; // a rare giant frame: let its buffer go
        }

        for (int i = 0; i < _free.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _free[i], segment, null) is null)
            {
                return;
            }
        }
    }

    /// <summary>One frame inside a segment.</summary>
    /// <param name="FrameStart">Where the frame's own bytes start in <see cref="Segment.Buffer"/>.</param>
    /// <param name="FrameLength">How many bytes the frame has.</param>
    /// <param name="Subject">Where the frame goes when it travels alone.</param>
    /// <param name="ReplyTo">Its NATS reply subject (a request's), or null.</param>
    /// <param name="Correlation">The correlation it answers (a reply), or 0.</param>
    /// <param name="Pending">The request it carries, if any (failed if publishing fails).</param>
    internal readonly record struct Item(int FrameStart, int FrameLength, string Subject, string? ReplyTo, long Correlation, PendingRemote? Pending);

    /// <summary>
    /// A growing buffer of batch items, laid out as a batch frame from the start (a fixed 7-byte header, patched when it
    /// is published), so publishing it is a single write; a segment of one item is published as that item's frame alone.
    /// </summary>
    internal sealed class Segment : IBufferWriter<byte>
    {
        public byte[] Buffer { get; private set; } = new byte[4096];

        public int Length { get; set; }

        public List<Item> Items { get; } = [];

        /// <summary>True when one of the frames is a request.</summary>
        public bool HasRequests
        {
            get
            {
                foreach (Item item in Items)
                {
                    if (item.Pending is not null)
                    {
                        return true;
                    }
                }

                return false;
            }
        }

        public void Start()
        {
            Length = Frame.BatchHeaderBytes;
        }

        public void Clear()
        {
            Items.Clear();
            Length = 0;
        }

        /// <summary>The item's frame alone.</summary>
        public ReadOnlyMemory<byte> FrameOf(in Item item) => Buffer.AsMemory(item.FrameStart, item.FrameLength);

        /// <summary>The whole segment as one batch frame (the header is written now).</summary>
        public ReadOnlyMemory<byte> AsBatch()
        {
            Frame.WriteBatchHeader(Buffer, Items.Count);
            return Buffer.AsMemory(0, Length);
        }

        /// <summary>Reserves <paramref name="count"/> bytes; returns where they start.</summary>
        public int Reserve(int count)
        {
            Ensure(count);
            int at = Length;
            Length += count;
            return at;
        }

        public void Advance(int count) => Length += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(Math.Max(sizeHint, 256));
            return Buffer.AsMemory(Length);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(Math.Max(sizeHint, 256));
            return Buffer.AsSpan(Length);
        }

        private void Ensure(int count)
        {
            if (Buffer.Length - Length < count)
            {
                byte[] larger = new byte[Math.Max(Buffer.Length * 2, Length + count)];
                Buffer.AsSpan(0, Length).CopyTo(larger);
                Buffer = larger;
            }
        }
    }
}
