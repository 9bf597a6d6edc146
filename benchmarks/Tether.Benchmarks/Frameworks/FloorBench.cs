using System.Collections.Concurrent;

namespace Tether.Benchmarks.Frameworks;

/// <summary>
/// The floor: the least a mailbox on the .NET thread pool can do per message, a reference to compare with, not a peer.
/// A lock-free multi-producer queue of (sender, message) entries (ConcurrentQueue: one locked instruction to enqueue,
/// one to dequeue), an Idle/Busy status so one run at a time, and Tether's scheduling (a target woken during another
/// target's run is queued on the same thread when that run ends). Nothing else: no bound on the mailbox, no sender
/// address (a reference), no dispatch table, supervision, trace context, metrics, adapters or recycling. Any runtime
/// that keeps DESIGN §2's guarantees does strictly more per message, so this is the ceiling for ping-pong on this machine.
/// Only the ping-pong scenarios are implemented.
/// </summary>
internal sealed class FloorBench : IBenchSystem
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

    public Task<Func<Task>> PrepareUserStylePingPongAsync(int roundTrips, int inFlight) => throw Unsupported();

    public Task<Func<Task<int>>> PrepareRequestAsync() => throw Unsupported();

    public Task<Func<Task<int>>> PrepareRecordRequestAsync() => throw Unsupported();

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

        private readonly ConcurrentQueue<(Cell? Sender, object Message)> _queue = new();
        private int _status;

        public void Post(Cell? sender, object message)
        {
            _queue.Enqueue((sender, message));
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
                for (int i = 0; i < Throughput && _queue.TryDequeue(out (Cell? Sender, object Message) entry); i++)
                {
                    Receive(entry.Sender, entry.Message);
                }
            }
            finally
            {
                t_running = false;
                Interlocked.Exchange(ref _status, Idle);
                if (!_queue.IsEmpty && Interlocked.CompareExchange(ref _status, Busy, Idle) == Idle)
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
    }

    private sealed class Ponger : Cell
    {
        protected override void Receive(Cell? sender, object message) => sender!.Post(this, message);
    }

    private sealed class Pinger(int roundTrips, int inFlight, TaskCompletionSource done, Ponger ponger) : Cell
    {
        private Volleys _volleys = new(roundTrips, inFlight, done);

        protected override void Receive(Cell? sender, object message)
        {
            if (message is Ball && !_volleys.Returned())
            {
                return;
            }

            int n = _volleys.NextBatch();
            for (int i = 0; i < n; i++)
            {
                ponger.Post(this, Ball.Instance);
            }
        }
    }
}
