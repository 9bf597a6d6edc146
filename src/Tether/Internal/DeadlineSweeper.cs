namespace Tether.Internal;

/// <summary>
/// Fails overdue requests. One periodic sweep per node instead of a timer per request. Requests with the same
/// timeout expire in the order they were sent, so each distinct timeout has its own FIFO queue and a sweep looks
/// only at the heads: registering is a short locked enqueue with no allocation, completing a request costs
/// nothing here (the sweep drops completed heads), and a request fails at most one sweep interval after its deadline.
/// </summary>
/// <remarks>
/// Completed requests behind a long-pending head are dropped by a compaction that runs when a queue has doubled
/// since the last one, so memory stays proportional to the requests actually pending.
/// Timeouts beyond <see cref="MaxQueues"/> distinct values share one queue that the sweep scans whole.
/// </remarks>
internal sealed class DeadlineSweeper : IDisposable
{
    private const int MaxQueues = 32;
    private const int MinCompaction = 1_024;

    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _queuesGate = new();
    private readonly Queue _mixed = new(-1); // timeouts beyond MaxQueues: scanned whole
    private Queue[] _queues = [];
    private TetherException? _closed;

    public DeadlineSweeper(TimeProvider time, TimeSpan interval)
    {
        _time = time;
        _timer = time.CreateTimer(static s => ((DeadlineSweeper)s!).Sweep(), this, interval, interval);
    }

    internal interface IExpiring
    {
        /// <summary>Set by <see cref="Add"/>: now plus <see cref="Timeout"/>, stamped under the queue's lock.</summary>
        long Deadline { get; set; }

        TimeSpan Timeout { get; }

        bool IsCompleted { get; }

        void Expire();

        bool TryFail(TetherException error);
    }

    /// <summary>Requests still waiting for their outcome (counted on demand: a statistic, not a hot path).</summary>
    public int Count
    {
        get
        {
            int count = _mixed.CountPending();
            foreach (Queue queue in Volatile.Read(ref _queues))
            {
                count += queue.CountPending();
            }

            return count;
        }
    }

    /// <summary>Entries held, completed or not (what compaction bounds); for tests.</summary>
    internal int Stored
    {
        get
        {
            int stored = _mixed.Stored;
            foreach (Queue queue in Volatile.Read(ref _queues))
            {
                stored += queue.Stored;
            }

            return stored;
        }
    }

    public void Add(IExpiring request)
    {
        Queue queue = QueueFor(request.Timeout.Ticks);
        if (!queue.TryAdd(request, this, _time))
        {
            request.TryFail(_closed!);
        }
    }

    /// <summary>Fails every pending request at once (the node is stopping); requests added later fail at once too.</summary>
    public void FailAll(TetherException error)
    {
        Interlocked.Exchange(ref _closed, error);
        List<IExpiring> failed = [];
        _mixed.DrainTo(failed);
        foreach (Queue queue in Volatile.Read(ref _queues))
        {
            queue.DrainTo(failed);
        }

        foreach (IExpiring request in failed)
        {
            request.TryFail(error);
        }
    }

    public void Sweep()
    {
        long now = _time.GetTimestamp();
        List<IExpiring>? expired = null;
        foreach (Queue queue in Volatile.Read(ref _queues))
        {
            queue.TakeExpiredHeads(now, ref expired);
        }

        _mixed.TakeExpiredAnywhere(now, ref expired);
        if (expired is null)
        {
            return;
        }

        foreach (IExpiring request in expired)
        {
            request.Expire();
        }
    }

    public void Dispose() => _timer.Dispose();

    private Queue QueueFor(long timeout)
    {
        Queue[] queues = Volatile.Read(ref _queues);
        foreach (Queue queue in queues)
        {
            if (queue.Timeout == timeout)
            {
                return queue;
            }
        }

        lock (_queuesGate)
        {
            queues = _queues;
            foreach (Queue queue in queues)
            {
                if (queue.Timeout == timeout)
                {
                    return queue;
                }
            }

            if (queues.Length >= MaxQueues)
            {
                return _mixed;
            }

            var added = new Queue(timeout);
            Volatile.Write(ref _queues, [.. queues, added]);
            return added;
        }
    }

    /// <summary>A ring of requests in the order they were added, under its own lock.</summary>
    private sealed class Queue(long timeout)
    {
        private readonly Lock _gate = new();
        private IExpiring?[] _items = new IExpiring?[16];
        private int _head;
        private int _count;
        private int _compactAt = MinCompaction;

        public long Timeout { get; } = timeout;

        public int Stored
        {
            get
            {
                lock (_gate)
                {
                    return _count;
                }
            }
        }

        public bool TryAdd(IExpiring request, DeadlineSweeper owner, TimeProvider time)
        {
            lock (_gate)
            {
                // Stamped here, under the lock: a thread preempted between stamping and queuing cannot land behind a later deadline.
                long now = time.GetTimestamp();
                double span = request.Timeout.TotalSeconds * time.TimestampFrequency;
                request.Deadline = span >= long.MaxValue - now ? long.MaxValue : now + (long)span; // a huge timeout must not wrap round to "already due"

                // Checked under the lock FailAll drains under: a request is either drained or refused, never stranded.
                if (Volatile.Read(ref owner._closed) is not null)
                {
                    return false;
                }

                if (_count == _items.Length)
                {
                    Grow();
                }

                _items[(_head + _count) % _items.Length] = request;
                _count++;
                if (_count >= _compactAt)
                {
                    Compact();
                }

                return true;
            }
        }

        public void TakeExpiredHeads(long now, ref List<IExpiring>? expired)
        {
            lock (_gate)
            {
                while (_count > 0)
                {
                    IExpiring head = _items[_head]!;
                    if (!head.IsCompleted)
                    {
                        if (head.Deadline > now)
                        {
                            break; // everything behind it was sent later with the same timeout
                        }

                        (expired ??= []).Add(head);
                    }

                    _items[_head] = null;
                    _head = (_head + 1) % _items.Length;
                    _count--;
                }

                if (_count < _compactAt / 4)
                {
                    _compactAt = Math.Max(MinCompaction, _count * 2); // after a burst, compact at the usual pace again
                }
            }
        }

        public void TakeExpiredAnywhere(long now, ref List<IExpiring>? expired)
        {
            lock (_gate)
            {
                Filter(now, ref expired);
            }
        }

        public void DrainTo(List<IExpiring> failed)
        {
            lock (_gate)
            {
                for (int i = 0; i < _count; i++)
                {
                    ref IExpiring? slot = ref _items[(_head + i) % _items.Length];
                    if (!slot!.IsCompleted)
                    {
                        failed.Add(slot);
                    }

                    slot = null;
                }

                _head = 0;
                _count = 0;
            }
        }

        public int CountPending()
        {
            lock (_gate)
            {
                int pending = 0;
                for (int i = 0; i < _count; i++)
                {
                    if (!_items[(_head + i) % _items.Length]!.IsCompleted)
                    {
                        pending++;
                    }
                }

                return pending;
            }
        }

        private void Grow()
        {
            var larger = new IExpiring?[_items.Length * 2];
            for (int i = 0; i < _count; i++)
            {
                larger[i] = _items[(_head + i) % _items.Length];
            }

            _items = larger;
            _head = 0;
        }

        /// <summary>Drops completed requests anywhere in the queue, keeping the order of the rest.</summary>
        private void Compact()
        {
            List<IExpiring>? none = null;
            Filter(long.MinValue, ref none); // nothing is due at the dawn of time: this only drops completed ones
            _compactAt = Math.Max(MinCompaction, _count * 2);
        }

        /// <summary>Under the lock: drops completed requests, moves those due by <paramref name="now"/> to <paramref name="expired"/>, keeps the order of the rest.</summary>
        private void Filter(long now, ref List<IExpiring>? expired)
        {
            int kept = 0;
            for (int i = 0; i < _count; i++)
            {
                IExpiring request = _items[(_head + i) % _items.Length]!;
                if (request.IsCompleted)
                {
                    continue;
                }

                if (request.Deadline <= now)
                {
                    (expired ??= []).Add(request);
                    continue;
                }

                _items[(_head + kept) % _items.Length] = request;
                kept++;
            }

            Truncate(kept);
        }

        private void Truncate(int kept)
        {
            for (int i = kept; i < _count; i++)
            {
                _items[(_head + i) % _items.Length] = null;
            }

            _count = kept;
        }
    }
}
