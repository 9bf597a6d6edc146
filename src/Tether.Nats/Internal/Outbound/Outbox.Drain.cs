namespace Tether.Nats.Internal;

/// <summary>Draining an outbox when the proxy stops cleanly: what waits goes out before the goodbye.</summary>
internal sealed partial class Outbox
{
    /// <summary>
    /// True when nothing waits and no writer is busy: every frame appended so far was handed to the connection. Otherwise
    /// hands whatever waits (deferred for a run that did not end, or still filling) to the writer and returns false; ask again.
    /// </summary>
    public bool Drained()
    {
        lock (_gate)
        {
            if (_writing)
            {
                return false;
            }

            if (IsDrained)
            {
                return true;
            }

            _writing = true;
            _deferred = _deferredAtLastTick = false; // the writer has them now
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        return false;
    }
}
