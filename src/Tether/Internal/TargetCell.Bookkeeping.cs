namespace Tether.Internal;

// Bookkeeping: the timers, topic subscriptions and service registrations an ending target must undo.
internal sealed partial class TargetCell
{
    public TimerHandle AddTimer(TimeSpan due, TimeSpan period, object message)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(due, TimeSpan.Zero);
        var handle = new TimerHandle(this, message, due, period);
        CellExtras extras = Extras;
        lock (extras)
        {
            if (IsAlive)
            {
                (extras.Timers ??= []).Add(handle);
                return handle;
            }
        }

        handle.Dispose();
        return handle;
    }

    public void RemoveTimer(TimerHandle handle)
    {
        CellExtras? extras = _extras;
        if (extras is null)
        {
            return;
        }

        lock (extras)
        {
            extras.Timers?.Remove(handle);
        }
    }

    public void AddTopic(string topic) => (Extras.Topics ??= []).Add(topic);

    public void RemoveTopic(string topic) => _extras?.Topics?.Remove(topic);

    public void AddService(string service)
    {
        CellExtras extras = Extras;
        lock (extras)
        {
            (extras.Services ??= []).Add(service);
        }
    }

    public void RemoveService(string service)
    {
        CellExtras? extras = _extras;
        if (extras is not null)
        {
            lock (extras)
            {
                extras.Services?.Remove(service);
            }
        }
    }
}
