namespace Tether.Tests.TestSupport;

/// <summary>
/// Counts how many pieces of one target's code run at the same moment. Call <see cref="Enter"/> at the start of
/// each stretch of handler code (the start of a handler and right after each await) and <see cref="Exit"/> at its
/// end (before each await and before returning). <see cref="MaxInside"/> above 1 means two handlers overlapped.
/// </summary>
internal sealed class OverlapProbe
{
    private int _inside;
    private int _maxInside;
    private int _entries;

    public int MaxInside => Volatile.Read(ref _maxInside);

    public int Entries => Volatile.Read(ref _entries);

    public void Enter()
    {
        int now = Interlocked.Increment(ref _inside);
        Interlocked.Increment(ref _entries);
        int max;
        do
        {
            max = Volatile.Read(ref _maxInside);
        }
        while (now > max && Interlocked.CompareExchange(ref _maxInside, now, max) != max);

        // Widen the window in which a second handler, if the runtime allowed one, would be caught inside.
        Thread.SpinWait(200);
    }

    public void Exit() => Interlocked.Decrement(ref _inside);
}
