using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using MessagePack;
using Tether.Transport;

namespace Tether.Nats.Internal;

// Over 400 lines on purpose: the coalescing writer and its lock protocol are one thing, read together; its flow-control
// and drain parts live in Outbox.Flow.cs and Outbox.Drain.cs.
/// <summary>
/// Everything this node sends to one destination (a peer's inbox, or a peer's replies), coalesced under load.
/// </summary>
/// <remarks>
/// <para>
/// Producers encode their frame into a per-thread scratch buffer and copy it into the destination's current
/// <see cref="Segment"/> under a short lock (no per-frame allocation). One writer at a time publishes: when the
/// destination was idle (no writer busy for <see cref="IdleTicks"/>) the producer publishes its own frame at once, as a plain frame, so a lone request pays
/// nothing. Otherwise a writer loop on the thread pool takes whatever accumulated and publishes it as one NATS message,
/// a batch frame (<see cref="Frame.BatchKind"/>); frames keep the order in which they were appended, and segments are
/// published in order, one at a time, so the order per sender and receiver holds.
/// </para>
/// <para>
/// Inside a run (<see cref="RunScope"/>: a target's batch of messages, or a batch of answers) a frame is neither
/// published at once nor handed to the writer: it waits for the run's end, when the run's thread publishes everything the
/// run appended (<see cref="FlushAtRunEnd"/>), unless a writer took it first. The <see cref="FlushGuard"/> hands frames
/// of a run that does not end to the writer (<see cref="Check"/>).
/// </para>
/// <para>
/// A batch never exceeds <see cref="_batchLimit"/> (at most <see cref="BrokerOptions.MaxFrameBytes"/>): a frame that
/// would overflow the current segment starts the next one, so a burst larger than a frame is split, never refused.
/// </para>
/// </remarks>
internal sealed partial class Outbox : IThreadPoolWorkItem, IRunEndFlush, IStallCheck
{
    /// <summary>A destination whose writer has been done for this long is idle: the next frame goes out at once, on the caller's thread.</summary>
    /// <remarks>
    /// Long enough that frames sent back to back still meet in one batch, short enough that the first frame of a burst is
    /// not left to the thread-pool writer (one more thread hop in its round trip): a much longer wait sends nearly every
    /// burst's first frame through the writer, a much shorter one hardly batches at all (the trials are in BENCHMARKS.md).
    /// </remarks>
    private static readonly long IdleTicks = Stopwatch.Frequency / 200_000; // 5 µs

    private readonly Lock _gate = new();
    private readonly Queue<Segment> _ready = new();
    private readonly Segment?[] _free = new Segment?[4]; // recycled segments, taken and returned without the lock
    private readonly Func<Outbox, Segment, ValueTask> _publish;
    private readonly Action<Outbox, Segment, Exception> _failed;
    private readonly int _batchLimit;
    private readonly int _maxFrame;
    private readonly FlushGuard _guard;
    private Segment? _filling;
    private bool _writing;
    private bool _deferred; // frames wait for the end of a run (no writer has them yet)
    private bool _deferredAtLastTick; // ... and already did at the guard's last tick
    private bool _guarded; // the guard is watching this outbox
    private long _idleSince; // when the last writer finished

    [ThreadStatic]
    private static Segment? t_scratch; // where this thread encodes a frame before copying it in under the lock

    /// <param name="batchSubject">Where batches go (a plain frame goes to its own subject).</param>
    /// <param name="destination">Names the destination in errors ("node X").</param>
    /// <param name="publish">Publishes a segment: its only frame as is, or the whole batch.</param>
    /// <param name="failed">Called when publishing a segment failed (its requests must fail).</param>
    /// <param name="maxFrameBytes">The largest frame, and the bound of a batch.</param>
    /// <param name="replyBase">For a requester's replies: its reply subjects without the correlation (<c>tether.{cluster}.reply.{node}.</c>).</param>
    /// <param name="guard">Publishes frames left waiting for a run that takes too long to end.</param>
    public Outbox(string batchSubject, string destination, Func<Outbox, Segment, ValueTask> publish, Action<Outbox, Segment, Exception> failed, int maxFrameBytes, FlushGuard guard, string? replyBase = null)
    {
        _guard = guard;
        BatchSubject = batchSubject;
        ReplyBase = replyBase;
        Destination = destination;
        _publish = publish;
        _failed = failed;
        _maxFrame = maxFrameBytes;
        _batchLimit = Math.Min(maxFrameBytes, BatchBytes);
    }

    /// <summary>The soft size of a batch: large enough to carry hundreds of small frames, small enough to flow.</summary>
    public const int BatchBytes = 64 * 1024;

    public string BatchSubject { get; }

    /// <summary>The peer node whose inbox this is (null for a peer's replies).</summary>
    public string? Node { get; init; }

    public string Destination { get; }

    /// <summary>A requester's reply subjects without the correlation; null for a node's inbox.</summary>
    public string? ReplyBase { get; }

    /// <summary>
    /// Appends one frame bound for <paramref name="subject"/> (with its NATS reply subject, and the correlation of a
    /// reply or a request) and sees that it is published. A reply's <paramref name="subject"/> may be null (it is
    /// <see cref="ReplyBase"/> and the correlation), and so may a request's <paramref name="replyTo"/> (the proxy's
    /// reply subject for the correlation): made only if the frame goes out alone.
    /// </summary>
    /// <returns>
    /// 0 when accepted; -1 when a message frame (send, request, event) finds more than
    /// <see cref="BrokerOptions.MaxPendingBytesPerNode"/> waiting here (nothing was sent); otherwise the frame's size,
    /// which exceeds <see cref="BrokerOptions.MaxFrameBytes"/> (nothing was sent).
    /// </returns>
    /// <exception cref="MessagePackSerializationException">The payload could not be serialized (nothing was sent).</exception>
    public int Append(in Frame frame, PayloadCodec? codec, object? payload, string? subject, string? replyTo, long correlation, PendingRemote? pending)
    {
        // Encoded outside the lock, into this thread's scratch buffer: the lock is held only for a short copy, so
        // producers and the writer rarely contend (encoding under it made them spin).
        Segment scratch = t_scratch ?? new Segment();
        t_scratch = null; // not reentrant: a nested append on this thread gets a buffer of its own
        try
        {
            Encoded encoded = EncodeItem(scratch, frame, codec, payload, correlation, replyTo);
            if (encoded.Length > _maxFrame)
            {
                return encoded.Length;
            }

            bool bounded = frame.Kind is FrameKind.Send or FrameKind.Request or FrameKind.Event; // ends and renewals always go
            return Enqueue(scratch.Buffer.AsSpan(0, scratch.Length), encoded, subject, replyTo, correlation, pending, bounded) ? 0 : -1;
        }
        finally
        {
            if (scratch.Buffer.Length <= 2 * BatchBytes)
            {
                t_scratch = scratch;
            }
        }
    }

    /// <summary>
    /// Encodes a batch item into <paramref name="scratch"/> (emptied first): its header (correlation and reply subject),
    /// then the frame, whose binary header <see cref="Segment.AppendItem"/> writes when it copies the item in.
    /// </summary>
    /// <exception cref="MessagePackSerializationException">The payload could not be serialized.</exception>
    internal static Encoded EncodeItem(Segment scratch, in Frame frame, PayloadCodec? codec, object? payload, long correlation, string? replyTo)
    {
        scratch.Length = 0;
        var writer = new MessagePackWriter(scratch);
        writer.WriteArrayHeader(3);
        writer.Write(correlation);
        writer.Write(replyTo);
        writer.Flush();
        int frameStart = scratch.Length;
        frame.EncodeTo(scratch, codec, payload);
        int frameLength = scratch.Length - frameStart;
        return new Encoded(frameStart, frameLength, frame.FindNames(scratch.Buffer.AsSpan(frameStart, frameLength)), frame.SenderNode, frame.Contract);
    }

    /// <summary>Copies one encoded batch item into the current segment and sees that it is published.</summary>
    /// <returns>False when <paramref name="bounded"/> and the outbox holds more than its bound (nothing was queued).</returns>
    private bool Enqueue(ReadOnlySpan<byte> item, in Encoded frame, string? subject, string? replyTo, long correlation, PendingRemote? pending, bool bounded)
    {
        Segment? inline = null;
        bool schedule = false;
        bool defer = false;
        bool first = false;
        bool inRun = RunScope.IsOpen;
        lock (_gate)
        {
            if (bounded && OverBound(item.Length))
            {
                return false;
            }

            Segment segment = _filling ??= Rent();
            bool full = false;
            if (segment.Items.Count > 0 && (segment.Length + item.Length + Segment.MaxBinaryHeader > _batchLimit || segment.Items.Count >= _maxItems))
            {
                // The batch is full: seal it; this frame starts the next one.
                _ready.Enqueue(segment);
                _filling = segment = Rent();
                full = true;
            }

            int frameStart = segment.AppendItem(item, frame, out int frameLength);
            segment.Items.Add(new Item(frameStart, frameLength, subject, replyTo, correlation, pending));
            segment.Queued += item.Length;
            _queuedBytes += item.Length;
            if (!_writing && _stalled)
            {
                // Waiting for credit: the peer's report starts the writer again.
            }
            else if (!_writing && inRun && !full)
            {
                // Inside a run (a target's batch of messages, or a batch of answers): the frame leaves when the run
                // ends, with whatever else the run sends, published on this thread (see RunScope). A full batch does
                // not wait: a large burst streams out through the writer meanwhile.
                defer = true;
                _deferred = true;
                if (!_guarded)
                {
                    _guarded = first = true;
                }
            }
            else if (!_writing)
            {
                _writing = true;

                // Idle: no writer has been busy for a while. The clock is read only here, not for every frame.
                if (_ready.Count == 0 && segment.Items.Count == 1 && HasCredit && Stopwatch.GetTimestamp() - _idleSince > IdleTicks)
                {
                    inline = segment;
                    _filling = null;
                    Taken(segment);
                    _deferred = _deferredAtLastTick = false;
                }
                else
                {
                    schedule = true;
                }
            }
        }

        if (defer)
        {
            RunScope.TryDeferFlush(this);
            if (first)
            {
                _guard.Watch(this);
            }
        }
        else if (inline is not null)
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

        return true;
    }

    /// <summary>The writer loop: publishes what accumulated, segment by segment, until nothing is left.</summary>
    public void Execute()
    {
        while (true)
        {
            Segment? next;
            lock (_gate)
            {
                if (StopWritingIfDrained())
                {
                    return;
                }

                if (!HasCredit)
                {
                    Stall(); // the frames wait for the peer's report (or the flow tick)
                    _deferred = _deferredAtLastTick = false;
                    return;
                }

                if (!_ready.TryDequeue(out next))
                {
                    next = _filling!;
                    _filling = null;
                }

                Taken(next);
                _deferred = _deferredAtLastTick = false; // a writer has them now
            }

            if (!Publish(next))
            {
                return; // an asynchronous publish goes on with the loop when it completes
            }
        }
    }

    /// <summary>The run that deferred frames here ended: publish them on this thread, unless a writer already has them.</summary>
    public void FlushAtRunEnd()
    {
        lock (_gate)
        {
            if (_writing || IsDrained)
            {
                return;
            }

            _writing = true;
        }

        Execute();
    }

    /// <summary>
    /// The guard's tick: frames deferred at the last tick and still waiting (a run that blocks, or takes long) go to the
    /// writer now. False when no frame waits any more (the guard stops watching until the next deferred frame).
    /// </summary>
    public bool Check()
    {
        lock (_gate)
        {
            if (!_deferred)
            {
                _guarded = false;
                return false;
            }

            if (!_deferredAtLastTick)
            {
                _deferredAtLastTick = true;
                return true;
            }

            _deferred = _deferredAtLastTick = _guarded = false;
            if (_writing)
            {
                return false;
            }

            _writing = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        return false;
    }

    /// <summary>Publishes one segment; false when it completes asynchronously (the continuation then resumes the writer).</summary>
    private bool Publish(Segment segment)
    {
        ValueTask publishing;
        try
        {
            ValueTask hello = SayHelloIfDue();
            if (!hello.IsCompletedSuccessfully)
            {
                _ = HelloThenPublishAsync(hello, segment);
                return false;
            }

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

    /// <summary>The hello did not leave at once: the segment follows it, in order, and the writer goes on after both.</summary>
    private async Task HelloThenPublishAsync(ValueTask hello, Segment segment)
    {
        try
        {
            await hello.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // a lost hello is made good by the flow tick (a stalled peer gets a new one)
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        if (Publish(segment))
        {
            Execute();
        }
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
            if (StopWritingIfDrained())
            {
                return;
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Under <see cref="_gate"/>: nothing is ready or filling.</summary>
    private bool IsDrained => _ready.Count == 0 && _filling is not { Items.Count: > 0 };

    /// <summary>Under <see cref="_gate"/>: when nothing is left to publish, the writer stops and the outbox is idle from now; true then.</summary>
    private bool StopWritingIfDrained()
    {
        if (!IsDrained)
        {
            return false;
        }

        _writing = false;
        _idleSince = Stopwatch.GetTimestamp();
        return true;
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
}
