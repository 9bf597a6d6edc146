namespace Tether.Internal;

// The mailbox: the inbox, its exact bound, and the cell's scheduling as its own thread-pool work item.

/// <remarks>
/// The mailbox is a lock-free multi-producer stack that the single consumer takes whole and reverses
/// (FIFO per producer and overall). The cell is its own thread-pool work item: <see cref="_status"/> goes
/// Idle → Busy by CAS for exactly one producer, which schedules it; only the running consumer sets it back.
/// </remarks>
internal sealed partial class TargetCell : IThreadPoolWorkItem
{
    private const byte Idle = 0;
    private const byte Busy = 1;

    private readonly int _capacity;
    private Envelope? _inbox;
    private Envelope? _batch;
    private byte _status = Busy; // Busy until the spawn has run OnStarted.
    private int _accepted; // user messages ever accepted (producers, atomically; wraps harmlessly)
    private int _taken; // user messages taken for handling (the consumer alone writes it: no atomic per message)
    private int _takenSeen; // a value _taken had (so at most _taken): producers compare with it, not with _taken

    /// <summary>The mailbox's bound.</summary>
    public int Capacity => _capacity;

    /// <summary>User messages waiting in the mailbox.</summary>
    public int Depth => Volatile.Read(ref _accepted) - Volatile.Read(ref _taken);

    public PostResult Post(Envelope envelope)
    {
        RunScope? scope = RunScope.FlushPending(); // a send of this thread's run still waiting goes first: one sender's order holds
        if (Volatile.Read(ref _state) != Alive)
        {
            return PostResult.Ended;
        }

        // One atomic for the bound. (A depth stamped on each pushed envelope would spare it, but envelopes are recycled,
        // so a producer could stamp a depth read from an envelope that has since been handled and reused: ABA.)
        // The bound is checked against _takenSeen, an earlier value of _taken: _taken only grows, so that check can only
        // overestimate the depth, never let one message too many in; when it says full, the real _taken decides (and is
        // noted for the next producers). Most posts then read no field the consumer writes for every message it takes:
        // the consumer's line stays on the consumer's core. The difference is compared unsigned, so a value noted very
        // long ago (the counters wrap) reads as full and is refreshed, never as room.
        int accepted = Interlocked.Increment(ref _accepted);
        if ((uint)(accepted - _takenSeen) > (uint)_capacity)
        {
            int taken = Volatile.Read(ref _taken);
            if (accepted - taken > _capacity)
            {
                Interlocked.Decrement(ref _accepted);
                return PostResult.Full;
            }

            _takenSeen = taken;
        }

        Push(envelope, envelope, scope);
        return PostResult.Accepted;
    }

    /// <summary>
    /// Posts a chain of <paramref name="count"/> envelopes at once, linked newest first (<paramref name="newest"/> through
    /// <see cref="Envelope.Next"/> to <paramref name="oldest"/>): one atomic for the bound and one push for the whole
    /// chain, where a post each would contend with the running consumer for this cell's line on every message.
    /// </summary>
    /// <returns><see cref="PostResult.Full"/> when the chain does not fit whole (nothing was posted: the caller posts
    /// one by one, so what fits is taken in order); otherwise as <see cref="Post"/>.</returns>
    public PostResult PostChain(Envelope newest, Envelope oldest, int count)
    {
        RunScope? scope = RunScope.FlushPending();
        if (Volatile.Read(ref _state) != Alive)
        {
            return PostResult.Ended;
        }

        // Reserved only if the whole chain fits: an add rolled back afterwards would make the mailbox look up to a
        // chain fuller than it is meanwhile, and other senders' single posts could be refused for room that was there.
        int accepted;
        do
        {
            accepted = Volatile.Read(ref _accepted);
            if (accepted + count - Volatile.Read(ref _taken) > _capacity)
            {
                return PostResult.Full;
            }
        }
        while (Interlocked.CompareExchange(ref _accepted, accepted + count, accepted) != accepted);

        Push(newest, oldest, scope);
        return PostResult.Accepted;
    }

    public void PostSystem(object payload)
    {
        RunScope? scope = RunScope.FlushPending();
        Envelope envelope = EnvelopePool.Rent(Category.System, default, payload, null);
        Push(envelope, envelope, scope);
    }

    /// <summary>
    /// Pushes a chain (<paramref name="newest"/> linked through to <paramref name="oldest"/>; one envelope is both) onto
    /// the inbox stack. Safe with recycled envelopes: a push reads only the head reference, never a field of it, and the
    /// consumer takes the whole stack at once (no pop that could meet a reused head). <paramref name="scope"/> is this
    /// thread's run scope (<see cref="RunScope.FlushPending"/>), for the wake-up.
    /// </summary>
    private void Push(Envelope newest, Envelope oldest, RunScope? scope)
    {
        Envelope? head;
        do
        {
            head = Volatile.Read(ref _inbox);
            oldest.Next = head;
        }
        while (Interlocked.CompareExchange(ref _inbox, newest, head) != head);

        // The CAS above is a full fence, so this read cannot move before the push (no lost wake-up); reading first
        // spares a second locked instruction per message while the target is already running.
        if (Volatile.Read(ref _status) == Idle && Interlocked.CompareExchange(ref _status, Busy, Idle) == Idle)
        {
            Wake(this, scope);
        }
    }

    /// <summary>
    /// Schedules a woken target. Inside a run of another target, it is only noted, and scheduled when that run ends:
    /// a burst sent in one run is then handled in one run of the receiver, instead of an idle worker stealing the
    /// receiver after the first message and the two threads passing every message across cores.
    /// </summary>
    private static void Wake(TargetCell cell, RunScope? scope)
    {
        if (!RunScope.TryDeferWake(scope, cell))
        {
            // The sender's own queue: when the sender's turn ends, its thread runs the receiver next without waking
            // another (request/response and ping-pong stay on one warm thread); idle workers still steal it.
            ThreadPool.UnsafeQueueUserWorkItem(cell, preferLocal: true);
        }
    }

    /// <summary>Called by the spawner once set-up is done: opens the mailbox for scheduling.</summary>
    public void Open() => Release();

    public void Execute()
    {
        RunScope? run = RunScope.Open();
        if (run is not null)
        {
            run.Running = this; // this target's sends wait in the run and leave as chains (Node.SendLocal)
        }

        try
        {
            RunBatch(run);
        }
        finally
        {
            RunScope.Close(run);
        }
    }

    private void RunBatch(RunScope? run)
    {
        EnvelopePool.FreeList pool = EnvelopePool.Local;
        Envelope? batch = _batch; // the consumer's own: kept in a local while running, in the field only between runs
        _batch = null;
        int budget = Node.Throughput;
        while (true)
        {
            Envelope? envelope = batch;
            if (envelope is null)
            {
                // This target's waiting sends leave before it looks for more messages (and so before it ends its run:
                // once it is Idle, another thread may run it and send directly, which must not overtake them).
                if (run is not null && run.Pending.Count != 0)
                {
                    Node.Flush(ref run.Pending);
                }

                Envelope? stack = Interlocked.Exchange(ref _inbox, null);
                if (stack is null)
                {
                    Release();
                    return;
                }

                envelope = Reverse(stack);
            }

            batch = envelope.Next;
            envelope.Next = null;
            if (envelope.Category != Category.System)
            {
                Volatile.Write(ref _taken, _taken + 1); // from here it is being handled, no longer waiting
            }

            Process(envelope);
            if (!envelope.Held)
            {
                EnvelopePool.Return(pool, envelope);
            }

            if (--budget == 0)
            {
                if (run is not null && run.Pending.Count != 0)
                {
                    Node.Flush(ref run.Pending); // before another thread can take this target's next run
                }

                if (batch is not null || Volatile.Read(ref _inbox) is not null)
                {
                    // Yield the thread to other targets; stay Busy so no producer schedules a second run.
                    _batch = batch;
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                    return;
                }

                budget = Node.Throughput;
            }
        }
    }

    private void Release()
    {
        // A full fence, not a release store: the read of _inbox below must not move before this write, or a producer
        // that pushed meanwhile (and saw Busy) and this consumer (seeing no message) would both walk away: a lost wake-up.
        Interlocked.Exchange(ref _status, Idle);

        // A producer may have pushed after our last look but seen Busy: take the run back if so.
        if ((_batch is not null || Volatile.Read(ref _inbox) is not null) && Interlocked.CompareExchange(ref _status, Busy, Idle) == Idle)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    private static Envelope Reverse(Envelope stack)
    {
        Envelope? previous = null;
        Envelope? current = stack;
        while (current is not null)
        {
            Envelope? next = current.Next;
            current.Next = previous;
            previous = current;
            current = next;
        }

        return previous!;
    }
}
