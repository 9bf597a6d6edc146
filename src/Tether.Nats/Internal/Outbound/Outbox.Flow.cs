using System.Diagnostics;

namespace Tether.Nats.Internal;

/// <summary>
/// Flow control of a peer's inbox (<see cref="FlowControl"/>): credits, the bound on what waits, and the hello that starts
/// the count. All fields are guarded by <see cref="_gate"/>.
/// </summary>
/// <remarks>
/// The writer publishes a segment only while fewer than <see cref="_window"/> frames are unconfirmed (sent since this
/// outbox's hello and not yet reported taken by the peer). Without credit it stops; frames appended meanwhile wait in the
/// segments, up to <see cref="_maxQueuedBytes"/>, and a report that gives credit back starts the writer again. The check
/// is per segment, and a segment holds at most a quarter of the window, so a window is exceeded by at most that.
/// </remarks>
internal sealed partial class Outbox
{
    private FlowControl? _flow; // null for a peer's replies: answers are never held back
    private int _window;
    private int _maxItems = int.MaxValue; // a quarter of the window: credit is checked per segment, so one overshoots by at most this
    private int _maxQueuedBytes;
    private long _queuedBytes; // bytes appended and not yet taken for publishing
    private long _sentFrames; // frames taken for publishing since this epoch's hello
    private long _ackedFrames; // frames the peer reported taken, of this epoch
    private long _epoch; // names this outbox's count to the peer (a new one after a reset)
    private int _helloDue; // 1: the next publish says hello first (Interlocked: read by the writer outside the lock)
    private bool _confirmed; // the peer answered this epoch's hello: it speaks flow control
    private bool _unlimited; // the peer never answered a hello (an older node): not flow-controlled
    private bool _stalled; // the writer stopped for want of credit
    private long _stalledAt;
    private long _progressAt;
    private long _droppedThere; // sends the peer reported it dropped, of this epoch

    /// <summary>Bytes of frames waiting in this outbox.</summary>
    public long QueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _queuedBytes;
            }
        }
    }

    /// <summary>The epoch the peer counts this outbox's frames under; for the hello.</summary>
    public long Epoch
    {
        get
        {
            lock (_gate)
            {
                return _epoch;
            }
        }
    }

    /// <summary>This outbox's flow-control state in words, for failure messages and diagnostics.</summary>
    public string DescribeFlow()
    {
        lock (_gate)
        {
            return $"queued {_queuedBytes} B in {_ready.Count} ready segment(s) + {_filling?.Items.Count ?? 0} filling, epoch {_epoch}, sent {_sentFrames}, acked {_ackedFrames}, window {_window}, confirmed {_confirmed}, unlimited {_unlimited}, stalled {_stalled}, writing {_writing}, hello due {Volatile.Read(ref _helloDue)}, dropped there {_droppedThere}";
        }
    }

    /// <summary>Makes this (a peer's inbox) flow-controlled: see <see cref="FlowControl"/>.</summary>
    public void EnableFlow(FlowControl flow, int window, int maxQueuedBytes)
    {
        lock (_gate)
        {
            _flow = flow;
            _window = window;
            _maxItems = Math.Max(1, window / 4);
            _maxQueuedBytes = maxQueuedBytes;
            _epoch = FlowControl.NewEpoch();
            _helloDue = 1;
            _progressAt = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Under the lock: whether the writer may publish another segment.</summary>
    private bool HasCredit => _flow is null || _unlimited || _sentFrames - _ackedFrames < _window;

    /// <summary>Under the lock: a frame of <paramref name="length"/> bytes finds no room (the caller drops or refuses it).</summary>
    private bool OverBound(int length) => _maxQueuedBytes > 0 && _queuedBytes + length > _maxQueuedBytes && _queuedBytes > 0;

    /// <summary>Under the lock: <paramref name="segment"/> is taken for publishing.</summary>
    private void Taken(Segment segment)
    {
        _queuedBytes -= segment.Queued;
        _sentFrames += segment.Items.Count;
    }

    /// <summary>Under the lock: the writer stops for credit; a report or the flow tick starts it again.</summary>
    private void Stall()
    {
        _writing = false;
        _idleSince = Stopwatch.GetTimestamp();
        if (!_stalled)
        {
            _stalled = true;
            _stalledAt = _idleSince;
            _flow?.CountWait();
        }
    }

    /// <summary>The writer is about to publish: the hello goes first when one is due (true when one was sent).</summary>
    private ValueTask SayHelloIfDue()
        => _flow is { } flow && Volatile.Read(ref _helloDue) == 1 && Interlocked.Exchange(ref _helloDue, 0) == 1
            ? flow.SendHello(this)
            : ValueTask.CompletedTask;

    /// <summary>
    /// The peer reports how many frames of <paramref name="epoch"/> it has taken and how many sends it dropped
    /// (<paramref name="lastDropped"/>: the local id of the last target one was dropped for).
    /// </summary>
    public void OnReport(long epoch, long taken, long dropped, long lastDropped)
    {
        bool resume = false;
        long newlyDropped = 0;
        lock (_gate)
        {
            if (epoch != _epoch || _flow is null)
            {
                return; // an earlier epoch's report, or one for another incarnation of this node
            }

            _confirmed = true;
            if (taken > _ackedFrames)
            {
                _ackedFrames = taken;
                _progressAt = Stopwatch.GetTimestamp();
            }

            if (dropped > _droppedThere)
            {
                newlyDropped = dropped - _droppedThere;
                _droppedThere = dropped;
            }

            if (_stalled && HasCredit)
            {
                resume = EndStall();
            }
        }

        if (newlyDropped > 0)
        {
            _flow.DroppedThere(this, newlyDropped, lastDropped);
        }

        if (resume)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>Frames sent under this epoch that the peer has not reported taken yet (for tests and diagnostics).</summary>
    public long Unconfirmed
    {
        get
        {
            lock (_gate)
            {
                return _sentFrames - _ackedFrames;
            }
        }
    }

    /// <summary>
    /// A NATS connection between this node and the peer was lost and made again (this node's, or the peer's, which says so
    /// naming <paramref name="epoch"/>; 0 for this node's own): frames in flight then may have been lost, and their credit
    /// with them, which would shrink the window for good. The count starts again at once, under a new epoch.
    /// </summary>
    /// <remarks>
    /// A peer's reset naming another epoch restarts the count too while the current one is unconfirmed: its hello was
    /// lost (both nodes reconnecting after a broker restart: this node's hello went out before the peer subscribed again),
    /// and the peer's reports, under the epoch it knows, would be ignored here. A reset for an earlier, confirmed count
    /// is stale and ignored.
    /// </remarks>
    /// <returns>True when a new count started (frames were unconfirmed).</returns>
    public bool RestartCount(long epoch)
    {
        lock (_gate)
        {
            if (_flow is null || _unlimited || (epoch != 0 && epoch != _epoch && _confirmed) || _sentFrames == _ackedFrames)
            {
                return false; // not flow-controlled, a stale reset, or nothing that could have been lost
            }

            NewCount(Stopwatch.GetTimestamp());
            if (!_stalled || !EndStall())
            {
                return true; // the writer, busy or idle, says hello before its next frame
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        return true;
    }

    /// <summary>
    /// Under the lock: the stall is over. True when the writer must be scheduled (after the lock is left): it was idle
    /// and something waits to be published; it is then marked writing.
    /// </summary>
    private bool EndStall()
    {
        _stalled = false;
        if (_writing || IsDrained)
        {
            return false;
        }

        _writing = true;
        return true;
    }

    /// <summary>Under the lock: a new epoch; the hello goes before the next frame, and the peer counts from there.</summary>
    private void NewCount(long now)
    {
        _epoch = FlowControl.NewEpoch();
        _sentFrames = _ackedFrames = _droppedThere = 0;
        _confirmed = false;
        _progressAt = now;
        Volatile.Write(ref _helloDue, 1);
    }

    /// <summary>
    /// The flow tick: a peer that never answered a hello within <paramref name="silence"/> of a stall does not speak flow
    /// control (its frames then go unlimited); one that answered but has taken nothing for <paramref name="stuck"/> may have
    /// lost reports or frames (a reconnect, a restart): the count starts again under a new epoch.
    /// </summary>
    /// <returns>What happened, for the log: 0 nothing, 1 unlimited, 2 restarted.</returns>
    public int FlowTick(long now, long silence, long stuck)
    {
        int what = 0;
        lock (_gate)
        {
            if (!_stalled || _flow is null || _unlimited)
            {
                return 0;
            }

            if (!_confirmed && now - _stalledAt > silence)
            {
                _unlimited = true;
                what = 1;
            }
            else if (_confirmed && now - Math.Max(_stalledAt, _progressAt) > stuck)
            {
                NewCount(now);
                what = 2;
            }
            else
            {
                return 0;
            }

            if (!EndStall())
            {
                return what;
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        return what;
    }
}
