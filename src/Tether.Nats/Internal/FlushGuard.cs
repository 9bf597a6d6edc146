namespace Tether.Nats.Internal;

/// <summary>
/// Sees that frames deferred to the end of a run (<see cref="Tether.Internal.RunScope"/>) leave even when that run does
/// not end soon: a handler that computes for long after sending, or blocks its thread. Every tick it looks at the outboxes
/// that defer; frames that were already waiting at the previous tick go to the outbox's writer. So a frame waits at most
/// about two ticks for a run that does not end.
/// </summary>
/// <remarks>
/// The timer runs while frames are being deferred and stops after <see cref="IdleTicksBeforeStop"/> ticks without any, so
/// a node at rest has no timer ticking, and a busy one does not start and stop it for every run.
/// </remarks>
internal sealed class FlushGuard : IDisposable
{
    /// <summary>The default tick; a deferred frame waits at most about twice this long.</summary>
    public static readonly TimeSpan DefaultTick = TimeSpan.FromMilliseconds(1);

    private const int IdleTicksBeforeStop = 100;

    private readonly Lock _gate = new();
    private readonly List<Outbox> _outboxes = [];
    private readonly Timer _timer;
    private readonly TimeSpan _tick;
    private volatile bool _running;
    private int _idleTicks;
    private bool _disposed;

    /// <param name="tick">How often to look (<see cref="DefaultTick"/> unless a test needs otherwise).</param>
    public FlushGuard(TimeSpan? tick = null)
    {
        _tick = tick ?? DefaultTick;
        _timer = new Timer(static s => ((FlushGuard)s!).OnTick(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>Looks at <paramref name="outbox"/> from now on (called once, the first time it defers a frame).</summary>
    public void Add(Outbox outbox)
    {
        lock (_gate)
        {
            _outboxes.Add(outbox);
        }
    }

    /// <summary>A frame was deferred: make sure the timer runs.</summary>
    public void Poke()
    {
        // The deferred frame was recorded before this read (and a stopping tick looks again after it clears _running):
        // either this sees the timer stopped and starts it, or that last look finds the frame.
        Interlocked.MemoryBarrier();
        if (_running)
        {
            return;
        }

        lock (_gate)
        {
            if (!_running && !_disposed)
            {
                _running = true;
                _idleTicks = 0;
                _timer.Change(_tick, _tick);
            }
        }
    }

    private void OnTick()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            bool waiting = false;
            foreach (Outbox outbox in _outboxes)
            {
                waiting |= outbox.CheckDeferred();
            }

            if (waiting)
            {
                _idleTicks = 0;
            }
            else if (++_idleTicks >= IdleTicksBeforeStop && _running)
            {
                _running = false;
                Interlocked.MemoryBarrier();
                foreach (Outbox outbox in _outboxes)
                {
                    waiting |= outbox.HasDeferred; // deferred while stopping, by a poke that saw the timer running
                }

                if (waiting)
                {
                    _running = true;
                    _idleTicks = 0;
                }
                else
                {
                    _timer.Change(Timeout.Infinite, Timeout.Infinite);
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _running = false;
            _outboxes.Clear();
        }

        _timer.Dispose();
    }
}
