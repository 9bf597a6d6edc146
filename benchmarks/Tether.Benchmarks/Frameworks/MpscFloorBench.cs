namespace Tether.Benchmarks.Frameworks;

/// <summary>
/// A second floor, below <see cref="FloorBench"/>'s: the same bare mailbox and scheduling, but its queue is an intrusive
/// multi-producer single-consumer list (Vyukov's): a producer does one exchange on the tail and links the previous tail
/// with a plain store; the consumer takes messages with plain reads, no locked instruction per message. Queue nodes are
/// recycled through a free list per thread, so the steady state allocates nothing. Like the other floor: no bound, no
/// sender address, no dispatch, supervision, trace context or metrics; a reference to compare with, not a peer. Only the
/// ping-pong scenarios are implemented.
/// </summary>
internal sealed class MpscFloorBench : IBenchSystem
{
    public Task<Func<Task>> PreparePingPongAsync(int pairs, int roundTrips, int inFlight)
    {
        var done = new Task[pairs];
        var pingers = new Pinger[pairs];
        for (int i = 0; i < pairs; i++)
        {
            var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            done[i] = finished.Task;
            pingers[i] = new Pinger(roundTrips, inFlight, finished, new Ponger());
        }

        return Task.FromResult<Func<Task>>(() =>
        {
            foreach (Pinger pinger in pingers)
            {
                pinger.Post(null, Start.Instance);
            }

            return Task.WhenAll(done);
        });
    }

    public Task<Func<Task<int>>> PrepareRequestAsync() => throw Unsupported();

    public Task<long> SpawnTreeAsync(int size, int div, TimeSpan timeout) => throw Unsupported();

    public Task<(long Before, long After)> SpawnIdleAsync(int count, Func<long> measure) => throw Unsupported();

    public Task<Func<Task<long>>> PrepareFanoutAsync(int workers) => throw Unsupported();

    public Task RunJobsAsync(int jobs, int maxActive) => throw Unsupported();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static NotSupportedException Unsupported() => new("the floor implements only the ping-pong scenarios");

    private sealed class Start
    {
        public static readonly Start Instance = new();
    }

    private sealed class Ball
    {
        public static readonly Ball Instance = new();
    }

    /// <summary>A queue node; recycled through a small free list per thread.</summary>
    private sealed class QueueNode
    {
        private const int MaxFree = 1024;

        [ThreadStatic]
        private static QueueNode? t_free;

        [ThreadStatic]
        private static int t_freeCount;

        public QueueNode? Next;
        public Cell? Sender;
        public object? Message;

        public static QueueNode Rent(Cell? sender, object message)
        {
            QueueNode? node = t_free;
            if (node is null)
            {
                node = new QueueNode();
            }
            else
            {
                t_free = node.Next;
                t_freeCount--;
                node.Next = null;
            }

            node.Sender = sender;
            node.Message = message;
            return node;
        }

        public static void Return(QueueNode node)
        {
            if (t_freeCount >= MaxFree)
            {
                return; // one thread mostly frees what another allocates: the rest goes to the collector
            }

            node.Sender = null;
            node.Message = null;
            node.Next = t_free;
            t_free = node;
            t_freeCount++;
        }
    }

    /// <summary>A bare mailbox and its run; <see cref="Receive"/> is the handler.</summary>
    private abstract class Cell : IThreadPoolWorkItem
    {
        private const int Idle = 0;
        private const int Busy = 1;
        private const int Throughput = 300;

        [ThreadStatic]
        private static List<Cell>? t_woken;

        [ThreadStatic]
        private static bool t_running;

        private QueueNode _head; // the consumer's: a consumed node (or the first stub) whose Next is the oldest message
        private QueueNode _tail; // the producers': exchanged by each enqueue
        private int _status;

        protected Cell()
        {
            _head = _tail = new QueueNode();
        }

        public void Post(Cell? sender, object message)
        {
            QueueNode node = QueueNode.Rent(sender, message);

            // The exchange is a full fence: the status read below cannot move before it, and the consumer reads the
            // tail after its own fenced Idle write, so one of the two sees the other (no lost wake-up).
            QueueNode previous = Interlocked.Exchange(ref _tail, node);
            Volatile.Write(ref previous.Next, node);
            if (Volatile.Read(ref _status) == Idle && Interlocked.CompareExchange(ref _status, Busy, Idle) == Idle)
            {
                if (t_running)
                {
                    (t_woken ??= []).Add(this);
                }
                else
                {
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
                }
            }
        }

        public void Execute()
        {
            t_running = true;
            try
            {
                for (int i = 0; i < Throughput && TryTake(out Cell? sender, out object? message); i++)
                {
                    Receive(sender, message!);
                }
            }
            finally
            {
                t_running = false;
                Interlocked.Exchange(ref _status, Idle);
                if (!ReferenceEquals(Volatile.Read(ref _tail), _head) && Interlocked.CompareExchange(ref _status, Busy, Idle) == Idle)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
                }

                if (t_woken is { Count: > 0 } woken)
                {
                    foreach (Cell cell in woken)
                    {
                        ThreadPool.UnsafeQueueUserWorkItem(cell, preferLocal: true);
                    }

                    woken.Clear();
                }
            }
        }

        protected abstract void Receive(Cell? sender, object message);

        private bool TryTake(out Cell? sender, out object? message)
        {
            QueueNode head = _head;
            QueueNode? next = Volatile.Read(ref head.Next);
            if (next is null)
            {
                if (ReferenceEquals(Volatile.Read(ref _tail), head))
                {
                    sender = null;
                    message = null;
                    return false;
                }

                // A producer has exchanged the tail but not linked it yet: it is between two instructions.
                var spin = default(SpinWait);
                while ((next = Volatile.Read(ref head.Next)) is null)
                {
                    spin.SpinOnce();
                }
            }

            _head = next;
            sender = next.Sender;
            message = next.Message;
            next.Sender = null;
            next.Message = null;
            QueueNode.Return(head); // nobody links to it any more: its producer's link is what we just read
            return true;
        }
    }

    private sealed class Ponger : Cell
    {
        protected override void Receive(Cell? sender, object message) => sender!.Post(this, message);
    }

    private sealed class Pinger(int roundTrips, int inFlight, TaskCompletionSource done, Ponger ponger) : Cell
    {
        private int _remaining = roundTrips;
        private int _batch;

        protected override void Receive(Cell? sender, object message)
        {
            if (message is Ball && --_batch != 0)
            {
                return;
            }

            if (_remaining == 0)
            {
                done.TrySetResult();
                return;
            }

            int n = Math.Min(inFlight, _remaining);
            _remaining -= n;
            _batch = n;
            for (int i = 0; i < n; i++)
            {
                ponger.Post(this, Ball.Instance);
            }
        }
    }
}
