namespace Tether.Nats.Internal;

/// <summary>
/// Sees that frames deferred to the end of a run (<see cref="Tether.Internal.RunScope"/>) leave even when that run does
/// not end soon: a handler that computes for long after sending, or blocks its thread. Every tick it looks at the outboxes
/// holding deferred frames; frames that were already waiting at the previous tick go to the outbox's writer. So a frame
/// waits at most about two ticks for a run that does not end. The timer runs only while some outbox is watched.
/// </summary>
internal sealed class FlushGuard : IDisposable
{
    /// <summary>The default tick; a deferred frame waits at most about twice this long.</summary>
    public static readonly TimeSpan DefaultTick = TimeSpan.FromMilliseconds(1);

    private readonly Lock _gate = new();
    private readonly List<Outbox> _watched = [];
    private readonly Timer _timer;
    private readonly TimeSpan _tick;
    private bool _running;
    private bool _disposed;

    /// <param name="tick">How often to look (<see cref="DefaultTick"/> unless a test needs otherwise).</param>
    public FlushGuard(TimeSpan? tick = null)
    {
        _tick = tick ?? DefaultTick;
        _timer = new Timer(static s => ((FlushGuard)s!).OnTick(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>Starts looking at <paramref name="outbox"/> (the outbox calls it once until <see cref="Outbox.CheckDeferred"/> says false).</summary>
    public void Watch(Outbox outbox)
    {
        lock (_gate)
        {
            _watched.Add(outbox);
            if (!_running && !_disposed)
            {
                _running = true;
                _timer.Change(_tick, _tick);
            }
        }
    }

    private void OnTick()
    {
        lock (_gate)
        {
            _watched.RemoveAll(static outbox => !outbox.CheckDeferred());
            if (_watched.Count == 0 && _running)
            {
                _running = false;
                _timer.Change(Timeout.Infinite, Timeout.Infinite);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _running = false;
            _watched.Clear();
        }

        _timer.Dispose();
    }
}
