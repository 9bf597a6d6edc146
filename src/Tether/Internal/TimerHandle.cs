namespace Tether.Internal;

/// <summary>A scheduled message to self. Disposing cancels it; the target's end disposes every one left.</summary>
internal sealed class TimerHandle : IDisposable
{
    private readonly TargetCell _cell;
    private readonly object _message;
    private readonly bool _once;
    private ITimer? _timer;
    private int _disposed;

    public TimerHandle(TargetCell cell, object message, TimeSpan due, TimeSpan period)
    {
        _cell = cell;
        _message = message;
        _once = period == Timeout.InfiniteTimeSpan;
        _timer = cell.Node.TimeProvider.CreateTimer(static s => ((TimerHandle)s!).Fire(), this, due, period);
        if (Volatile.Read(ref _disposed) != 0)
        {
            // It fired (once) or was cancelled before the timer was stored.
            Interlocked.Exchange(ref _timer, null)?.Dispose();
        }
    }

    private void Fire()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        _cell.Node.Deliver(_cell.Address, _cell.Address, _message, Category.Send, null, default);
        if (_once)
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _timer, null)?.Dispose();
        _cell.RemoveTimer(this);
    }
}
