using System.Collections.Concurrent;

namespace Tether.Internal;

/// <summary>
/// Fails overdue requests. One periodic sweep per node instead of a timer per request: registering is a
/// dictionary insert, and a request fails at most one sweep interval after its deadline.
/// </summary>
internal sealed class DeadlineSweeper : IDisposable
{
    private readonly ConcurrentDictionary<long, IExpiring> _pending = new();
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private long _nextId;

    public DeadlineSweeper(TimeProvider time, TimeSpan interval)
    {
        _time = time;
        _timer = time.CreateTimer(static s => ((DeadlineSweeper)s!).Sweep(), this, interval, interval);
    }

    internal interface IExpiring
    {
        long Deadline { get; }

        void Expire();

        bool TryFail(TetherException error);
    }

    public int Count => _pending.Count;

    public long Add(IExpiring request)
    {
        long id = Interlocked.Increment(ref _nextId);
        _pending[id] = request;
        return id;
    }

    public void Remove(long id) => _pending.TryRemove(id, out _);

    /// <summary>Fails every pending request at once (the node is stopping).</summary>
    public void FailAll(TetherException error)
    {
        foreach (KeyValuePair<long, IExpiring> entry in _pending)
        {
            entry.Value.TryFail(error);
        }

        _pending.Clear();
    }

    public void Sweep()
    {
        long now = _time.GetTimestamp();
        foreach (KeyValuePair<long, IExpiring> entry in _pending)
        {
            if (entry.Value.Deadline <= now)
            {
                entry.Value.Expire();
                _pending.TryRemove(entry.Key, out _);
            }
        }
    }

    public void Dispose() => _timer.Dispose();
}
