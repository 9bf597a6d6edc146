using Tether.Internal;

namespace Tether.Transport;

/// <summary>
/// What a run on this thread puts off until it ends: targets it woke, and transports' outgoing frames. A run is a
/// target's batch of messages (<see cref="TargetCell.Execute"/>), or a transport's batch of answers completed in one go.
/// </summary>
/// <remarks>
/// <para>
/// A burst sent in one run then leaves together: a woken local target handles it in one run of its own instead of an
/// idle worker stealing it after the first message (and the two threads passing every message across cores), and frames
/// for another node leave in one network message, published on this thread when the run ends, instead of the first
/// alone and the rest through a writer on another thread.
/// </para>
/// <para>
/// A transport uses it two ways: inside a run, it defers its outgoing frames to the run's end
/// (<see cref="TryDeferFlush"/>) instead of publishing each at once; and it opens a run of its own around a batch of
/// answers it completes on one thread (<see cref="Open"/>, <see cref="Close"/>).
/// </para>
/// <para>
/// A run is bounded (<see cref="NodeOptions.Throughput"/> messages), so nothing waits longer than the rest of the run.
/// A handler that blocks its thread until an answer comes (sync over async) waits for what it sent itself: handlers are
/// asynchronous, never blocking.
/// </para>
/// </remarks>
public sealed class RunScope
{
    [ThreadStatic]
    private static RunScope? t_scope;

    private RunScope()
    {
    }

    /// <summary>Sends of <see cref="Running"/> waiting to be posted together (see <see cref="Node.SendLocal"/>).</summary>
    internal DeliveryRun Pending;

    private readonly TargetCell?[] _woken = new TargetCell?[64];
    private readonly List<IRunEndFlush> _flushes = [];
    private int _wokenCount;
    private bool _open;
    private bool _deferWakes;

    /// <summary>This thread's open run, or null.</summary>
    internal static RunScope? Current => t_scope is { _open: true } scope ? scope : null;

    /// <summary>The target whose run this is (set by the target's run; null for a transport's run).</summary>
    internal TargetCell? Running { get; set; }

    /// <summary>This thread's envelope free list (the scope belongs to one thread).</summary>
    internal EnvelopePool.FreeList Pool { get; } = EnvelopePool.Local;

    /// <summary>
    /// Posts the sends waiting in this thread's run, if any: called before anything else enters a mailbox from this thread.
    /// Returns this thread's scope (open or not, or null), for the post's wake-up (<see cref="TryDeferWake"/>): one
    /// thread-static read per post.
    /// </summary>
    internal static RunScope? FlushPending()
    {
        RunScope? scope = t_scope;
        if (scope is not null && scope.Pending.Count != 0)
        {
            Node.Flush(ref scope.Pending);
        }

        return scope;
    }

    /// <summary>True while a run is going on on this thread.</summary>
    public static bool IsOpen => t_scope is { _open: true };

    /// <summary>
    /// Opens a run on this thread; null when one is already open (the outer one ends it). Pass the result to
    /// <see cref="Close"/>.
    /// </summary>
    /// <returns>The run to close, or null when one was already open.</returns>
    /// <param name="deferWakes">
    /// Whether targets woken during the run wait for its end too: yes for a target's run; no for a run of answers,
    /// whose continuations are user code that may wait synchronously for a local target (which must start meanwhile).
    /// </param>
    public static RunScope? Open(bool deferWakes = true)
    {
        RunScope scope = t_scope ??= new RunScope();
        if (scope._open)
        {
            return null;
        }

        scope._open = true;
        scope._deferWakes = deferWakes;
        return scope;
    }

    /// <summary>Ends the run: flushes the transports, then schedules the targets woken meanwhile.</summary>
    /// <param name="scope">What <see cref="Open"/> returned (null: nothing to do).</param>
    public static void Close(RunScope? scope)
    {
        if (scope is null)
        {
            return;
        }

        // Sends still waiting in the run first (the target's run posts them itself before it ends; this is the net).
        scope.Running = null;
        if (scope.Pending.Count != 0)
        {
            Node.Flush(ref scope.Pending);
        }

        // Woken targets first: they start (on this thread's queue, or stolen by an idle worker) while the flushes
        // publish. Flushing may register more flushes (the loop takes those too) and wake more targets (the finally).
        scope.ScheduleWoken();
        try
        {
            for (int i = 0; i < scope._flushes.Count; i++)
            {
                scope._flushes[i].FlushAtRunEnd();
            }
        }
        finally
        {
            scope._flushes.Clear();
            scope._open = false;
            scope.ScheduleWoken();
        }
    }

    /// <summary>
    /// Hides this thread's open run until <see cref="Unhide"/>: what is sent meanwhile is not the run's and leaves at once,
    /// not at the run's end (a target's question to another node that the target's run must not hold back, such as a
    /// session verification). A run opened meanwhile on this thread is one of its own. Returns the run hidden, or null.
    /// </summary>
    internal static RunScope? Hide()
    {
        RunScope? scope = t_scope;
        if (scope is null || !scope._open)
        {
            return null;
        }

        t_scope = null;
        return scope;
    }

    /// <summary>Puts back the run <see cref="Hide"/> hid (null: nothing to do).</summary>
    internal static void Unhide(RunScope? scope)
    {
        if (scope is not null)
        {
            t_scope = scope;
        }
    }

    /// <summary>Notes a target woken during the run, scheduled when the run ends; false when no run is open here.</summary>
    /// <param name="scope">This thread's scope, as <see cref="FlushPending"/> returned it.</param>
    /// <param name="cell">The woken target.</param>
    internal static bool TryDeferWake(RunScope? scope, TargetCell cell)
    {
        if (scope is null || !scope._open || !scope._deferWakes)
        {
            return false;
        }

        if (scope._wokenCount == scope._woken.Length)
        {
            scope.ScheduleWoken(); // a wide fan-out: let the first ones start
        }

        scope._woken[scope._wokenCount++] = cell;
        return true;
    }

    /// <summary>Asks for <paramref name="flush"/> when the run ends (once per run); false when no run is open here.</summary>
    /// <param name="flush">What to call at the run's end.</param>
    /// <returns>True when it will be called; false when no run is open on this thread (do the work now).</returns>
    public static bool TryDeferFlush(IRunEndFlush flush)
    {
        RunScope? scope = t_scope;
        if (scope is null || !scope._open)
        {
            return false;
        }

        List<IRunEndFlush> flushes = scope._flushes;
        for (int i = 0; i < flushes.Count; i++)
        {
            if (ReferenceEquals(flushes[i], flush))
            {
                return true;
            }
        }

        flushes.Add(flush);
        return true;
    }

    private void ScheduleWoken()
    {
        for (int i = 0; i < _wokenCount; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_woken[i]!, preferLocal: true);
            _woken[i] = null;
        }

        _wokenCount = 0;
    }
}
