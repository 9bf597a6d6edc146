namespace Tether.Nats.Internal;

/// <summary>
/// Sees that what a run put off does not wait on a run that does not end soon (a handler that computes for long, or a
/// continuation that blocks its thread): frames deferred to the end of the run (<see cref="Outbox"/>) and answers
/// completed one after the other in one run (<see cref="AnswerBatch"/>). Every tick it looks at what is watched; what has
/// not moved since the previous tick is handed to another thread. So nothing waits more than about two ticks for a run
/// that does not end.
/// </summary>
/// <remarks>
/// The timer runs while something is watched and stops after <see cref="IdleTicksBeforeStop"/> ticks with nothing, so a
/// node at rest has no timer ticking and a busy one does not start and stop it for every run.
/// </remarks>
internal sealed class FlushGuard : IDisposable
{
    /// <summary>The default tick; what a stalled run put off waits at most about twice this long.</summary>
    public static readonly TimeSpan DefaultTick = TimeSpan.FromMilliseconds(1);

    private const int IdleTicksBeforeStop = 100;

    private readonly Lock _gate = new();
    private readonly List<IStallCheck> _watched = [];
    private readonly Timer _timer;
    private readonly TimeSpan _tick;
    private bool _running;
    private int _idleTicks;
    private bool _disposed;

    /// <param name="tick">How often to look (<see cref="DefaultTick"/> unless a test needs otherwise).</param>
    public FlushGuard(TimeSpan? tick = null)
    {
        _tick = tick ?? DefaultTick;
        _timer = new Timer(static s => ((FlushGuard)s!).OnTick(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>Looks at <paramref name="item"/> every tick until its <see cref="IStallCheck.Check"/> says false.</summary>
    public void Watch(IStallCheck item)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _watched.Add(item);
            _idleTicks = 0;
            if (!_running)
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
            if (_disposed)
            {
                return;
            }

            _watched.RemoveAll(static item => !item.Check());
            if (_watched.Count > 0)
            {
                _idleTicks = 0;
            }
            else if (++_idleTicks >= IdleTicksBeforeStop && _running)
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
