using System.Diagnostics;
using Tether.Transport;

namespace Tether.Nats.Internal;

/// <summary>
/// The answers of one received message (a batch of them, under load), completed in one thread-pool work item that is a run
/// (<see cref="RunScope"/>): requesters awaiting them from outside the runtime continue here, one after the other, instead
/// of each in a work item of its own; and what they send next leaves together, in one NATS message published on this
/// thread when the run ends, instead of the first alone and the rest through the outbox's writer.
/// </summary>
/// <remarks>
/// A continuation that blocks its thread (waiting synchronously for something) must not hold back the answers after it:
/// the <see cref="FlushGuard"/> looks at a batch being completed every tick, and when it has not moved since the previous
/// tick, another work item takes over the answers left (each answer is claimed once, so none is completed twice).
/// </remarks>
internal sealed class AnswerBatch : IThreadPoolWorkItem, IStallCheck
{
    private readonly FlushGuard _guard;
    private (ReplySink Sink, object? Value)[] _items = new (ReplySink, object?)[8];
    private int _next; // the next answer to claim
    private int _seenAtTick = -1;
    private int _takeoverQueued; // 1 from a takeover's queueing until it starts

    public AnswerBatch(FlushGuard guard) => _guard = guard;

    /// <summary>The guard of the proxy whose answers these are.</summary>
    public FlushGuard Guard => _guard;

    /// <summary>True while the received message is being handled: answers found meanwhile are added here.</summary>
    public bool Collecting { get; set; }

    public int Count { get; private set; }

    /// <summary>Adds an answer (before the batch is queued; the reader's thread alone).</summary>
    public void Add(ReplySink sink, object? value)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, Count * 2);
        }

        _items[Count++] = (sink, value);
    }

    /// <summary>Completes the batch's only answer on this thread, the usual way (its continuation is queued), and empties the batch for reuse.</summary>
    public void CompleteAlone()
    {
        (ReplySink sink, object? value) = _items[0];
        _items[0] = default;
        Count = 0;
        sink.TryComplete(value);
    }

    /// <summary>Runs the batch (queued only with two answers or more: a lone one is <see cref="CompleteAlone"/>d).</summary>
    public void Execute()
    {
        _guard.Watch(this);
        Complete();
    }

    /// <summary>Claims and completes answers until none is left, as one run.</summary>
    /// <remarks>
    /// The run defers frames, not wake-ups: a continuation may wait synchronously for a local target, which must start.
    /// The trace context is put back after each answer (ending a request's span here sets the current activity).
    /// </remarks>
    private void Complete()
    {
        RunScope? run = RunScope.Open(deferWakes: false);
        Activity? current = Activity.Current;
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < Count)
            {
                (ReplySink sink, object? value) = _items[i];
                _items[i] = default;
                sink.TryCompleteHere(value);
                if (Activity.Current != current)
                {
                    Activity.Current = current;
                }
            }
        }
        finally
        {
            RunScope.Close(run);
        }
    }

    private static void TakeOver(AnswerBatch batch)
    {
        Volatile.Write(ref batch._takeoverQueued, 0);
        batch.Complete();
    }

    bool IStallCheck.Check()
    {
        int next = Volatile.Read(ref _next);
        if (next >= Count)
        {
            return false;
        }

        if (next != _seenAtTick)
        {
            _seenAtTick = next; // moving (or just started): look again at the next tick
            return true;
        }

        // Stuck on one continuation since the last tick: the rest go on in another work item (one at a time: a takeover
        // not started yet, on a starved pool, is not queued again).
        _seenAtTick = -1;
        if (Interlocked.Exchange(ref _takeoverQueued, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(TakeOver, this, preferLocal: false);
        }

        return true;
    }
}
