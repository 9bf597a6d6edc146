using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Tether.Internal;

internal enum PostResult
{
    Accepted,
    Full,
    Ended,
}

/// <summary>
/// The runtime side of a target: its mailbox, its scheduling, supervision and tethers. The user's
/// <see cref="Target"/> object holds only user state; the cell outlives it across restarts.
/// </summary>
/// <remarks>
/// The mailbox is a lock-free multi-producer stack that the single consumer takes whole and reverses
/// (FIFO per producer and overall). The cell is its own thread-pool work item: <see cref="_status"/> goes
/// Idle → Busy by CAS for exactly one producer, which schedules it; only the running consumer sets it back.
/// </remarks>
internal sealed class TargetCell : IThreadPoolWorkItem
{
    private const int Idle = 0;
    private const int Busy = 1;
    private const int Alive = 0;
    private const int Ended = 1;

    private readonly Func<Target> _create;
    private readonly int _capacity;
    private readonly Supervision _supervision;
    private readonly PipeCache? _pipes;
    private Envelope? _inbox;
    private Envelope? _batch;
    private int _status = Busy; // Busy until the spawn has run OnStarted.
    private int _state;
    private int _accepted; // user messages ever accepted (producers, atomically; wraps harmlessly)
    private int _taken; // user messages taken for handling (the consumer alone writes it: no atomic per message)
    private CellExtras? _extras;
    private OwnerTie? _tie;
    private SessionGate? _gate; // messages parked while their session is verified elsewhere; null until the first

    public TargetCell(Node node, long id, Target target, DispatchTable table, Func<Target> create, int capacity, Supervision supervision, PipeCache? pipes = null)
    {
        Node = node;
        Id = id;
        Target = target;
        Table = table;
        _create = create;
        _capacity = capacity;
        _supervision = supervision;
        _pipes = pipes;
    }

    public Node Node { get; }

    public long Id { get; }

    public Target Target { get; private set; }

    public DispatchTable Table { get; }

    public Address Address => new(Node.Name, Id, this);

    public Address Owner => _tie?.Owner ?? default;

    public bool IsAlive => Volatile.Read(ref _state) == Alive;

    /// <summary>The mailbox's bound.</summary>
    public int Capacity => _capacity;

    /// <summary>User messages waiting in the mailbox.</summary>
    public int Depth => Volatile.Read(ref _accepted) - Volatile.Read(ref _taken);

    private CellExtras Extras => _extras ??= new CellExtras();

    internal TetherPolicy? TetherPolicy => _tie?.Policy;

    public PostResult Post(Envelope envelope)
    {
        if (Volatile.Read(ref _state) != Alive)
        {
            return PostResult.Ended;
        }

        // One atomic for the bound. (A depth stamped on each pushed envelope would spare it, but envelopes are recycled,
        // so a producer could stamp a depth read from an envelope that has since been handled and reused: ABA.)
        if (Interlocked.Increment(ref _accepted) - Volatile.Read(ref _taken) > _capacity)
        {
            Interlocked.Decrement(ref _accepted);
            return PostResult.Full;
        }

        Push(envelope, envelope);
        return PostResult.Accepted;
    }

    /// <summary>
    /// Posts a chain of <paramref name="count"/> envelopes at once, linked newest first (<paramref name="newest"/> through
    /// <see cref="Envelope.Next"/> to <paramref name="oldest"/>): one atomic for the bound and one push for the whole
    /// chain, where a post each would contend with the running consumer for this cell's line on every message.
    /// </summary>
    /// <returns><see cref="PostResult.Full"/> when the chain does not fit whole (nothing was posted: the caller posts
    /// one by one, so what fits is taken in order); otherwise as <see cref="Post"/>.</returns>
    public PostResult PostChain(Envelope newest, Envelope oldest, int count)
    {
        if (Volatile.Read(ref _state) != Alive)
        {
            return PostResult.Ended;
        }

        // Reserved only if the whole chain fits: an add rolled back afterwards would make the mailbox look up to a
        // chain fuller than it is meanwhile, and other senders' single posts could be refused for room that was there.
        int accepted;
        do
        {
            accepted = Volatile.Read(ref _accepted);
            if (accepted + count - Volatile.Read(ref _taken) > _capacity)
            {
                return PostResult.Full;
            }
        }
        while (Interlocked.CompareExchange(ref _accepted, accepted + count, accepted) != accepted);

        Push(newest, oldest);
        return PostResult.Accepted;
    }

    public void PostSystem(object payload)
    {
        Envelope envelope = EnvelopePool.Rent(Category.System, default, payload, null);
        Push(envelope, envelope);
    }

    /// <summary>
    /// Pushes a chain (<paramref name="newest"/> linked through to <paramref name="oldest"/>; one envelope is both) onto
    /// the inbox stack. Safe with recycled envelopes: a push reads only the head reference, never a field of it, and the
    /// consumer takes the whole stack at once (no pop that could meet a reused head).
    /// </summary>
    private void Push(Envelope newest, Envelope oldest)
    {
        Envelope? head;
        do
        {
            head = Volatile.Read(ref _inbox);
            oldest.Next = head;
        }
        while (Interlocked.CompareExchange(ref _inbox, newest, head) != head);

        // The CAS above is a full fence, so this read cannot move before the push (no lost wake-up); reading first
        // spares a second locked instruction per message while the target is already running.
        if (Volatile.Read(ref _status) == Idle && Interlocked.CompareExchange(ref _status, Busy, Idle) == Idle)
        {
            Wake(this);
        }
    }

    /// <summary>
    /// Schedules a woken target. Inside a run of another target, it is only noted, and scheduled when that run ends:
    /// a burst sent in one run is then handled in one run of the receiver, instead of an idle worker stealing the
    /// receiver after the first message and the two threads passing every message across cores.
    /// </summary>
    private static void Wake(TargetCell cell)
    {
        if (!RunScope.TryDeferWake(cell))
        {
            // The sender's own queue: when the sender's turn ends, its thread runs the receiver next without waking
            // another (request/response and ping-pong stay on one warm thread); idle workers still steal it.
            ThreadPool.UnsafeQueueUserWorkItem(cell, preferLocal: true);
        }
    }

    /// <summary>Called by the spawner once set-up is done: opens the mailbox for scheduling.</summary>
    public void Open() => Release();

    public void Execute()
    {
        RunScope? run = RunScope.Open();
        try
        {
            RunBatch();
        }
        finally
        {
            RunScope.Close(run);
        }
    }

    private void RunBatch()
    {
        EnvelopePool.FreeList pool = EnvelopePool.Local;
        Envelope? batch = _batch; // the consumer's own: kept in a local while running, in the field only between runs
        _batch = null;
        int budget = Node.Throughput;
        while (true)
        {
            Envelope? envelope = batch;
            if (envelope is null)
            {
                Envelope? stack = Interlocked.Exchange(ref _inbox, null);
                if (stack is null)
                {
                    Release();
                    return;
                }

                envelope = Reverse(stack);
            }

            batch = envelope.Next;
            envelope.Next = null;
            if (envelope.Category != Category.System)
            {
                Volatile.Write(ref _taken, _taken + 1); // from here it is being handled, no longer waiting
            }

            Process(envelope);
            if (!envelope.Held)
            {
                EnvelopePool.Return(pool, envelope);
            }

            if (--budget == 0)
            {
                if (batch is not null || Volatile.Read(ref _inbox) is not null)
                {
                    // Yield the thread to other targets; stay Busy so no producer schedules a second run.
                    _batch = batch;
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                    return;
                }

                budget = Node.Throughput;
            }
        }
    }

    private void Release()
    {
        // A full fence, not a release store: the read of _inbox below must not move before this write, or a producer
        // that pushed meanwhile (and saw Busy) and this consumer (seeing no message) would both walk away: a lost wake-up.
        Interlocked.Exchange(ref _status, Idle);

        // A producer may have pushed after our last look but seen Busy: take the run back if so.
        if ((_batch is not null || Volatile.Read(ref _inbox) is not null) && Interlocked.CompareExchange(ref _status, Busy, Idle) == Idle)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    private static Envelope Reverse(Envelope stack)
    {
        Envelope? previous = null;
        Envelope? current = stack;
        while (current is not null)
        {
            Envelope? next = current.Next;
            current.Next = previous;
            previous = current;
            current = next;
        }

        return previous!;
    }

    private void Process(Envelope envelope)
    {
        if (envelope.Category == Category.System)
        {
            HandleSystem(envelope);
            return;
        }

        if (Volatile.Read(ref _state) != Alive)
        {
            Node.RejectEnded(this, envelope);
            return;
        }

        if (envelope.Reply is { IsCompleted: true })
        {
            return; // The requester already has its outcome (timed out): do not run work nobody waits for.
        }

        ChannelHandler? handler;
        if (_pipes is null)
        {
            handler = Table.Find(envelope.Payload.GetType()); // no adapters: this null check is all they cost
        }
        else if (!TryAdapt(_pipes, envelope, out handler))
        {
            return;
        }

        if (handler is null)
        {
            Node.NoHandler(this, envelope);
            return;
        }

        if (envelope.Reply is not null && !handler.IsRequest)
        {
            envelope.Reply.TryFail(new TetherException(
                ErrorCodes.NoHandler,
                $"{Table.TargetTypeName} at {Address} takes {envelope.Payload.GetType().Name} as a send or event, not as a request."));
            return;
        }

        if (_gate is { Count: > 0 } gate && gate.Holds(envelope))
        {
            gate.Park(envelope, handler); // behind this sender's earlier parked messages: one sender's order holds
            return;
        }

        if (handler.RequiredRight is not null)
        {
            Admit(handler, envelope);
            return;
        }

        Run(handler, envelope, null);
    }

    /// <summary>
    /// A message for a protected input channel: runs it when this node can verify its session now (a cached token), refuses
    /// it when the session is known bad, and otherwise parks it while the verifier asks the session manager.
    /// </summary>
    private void Admit(ChannelHandler handler, Envelope envelope)
    {
        if (TryVerifyNow(handler.RequiredRight!, envelope, out SessionVerdict verdict))
        {
            Admitted(handler, envelope, verdict);
            return;
        }

        SessionGate gate = _gate ??= new SessionGate();
        if (gate.Count >= _capacity)
        {
            Node.SessionRefused(this, envelope, SessionVerdict.Refuse(
                ErrorCodes.MailboxFull,
                $"{Table.TargetTypeName} at {Address} has {gate.Count} messages waiting for their session's verification; {envelope.Payload.GetType().Name} was rejected."));
            return;
        }

        gate.Park(envelope, handler);
        StartVerification(new SessionGate.Stream(envelope.Sender, envelope.Session), envelope.Session!, handler.RequiredRight!);
    }

    private bool TryVerifyNow(string right, Envelope envelope, out SessionVerdict verdict)
    {
        if (envelope.Session is not { } token)
        {
            verdict = SessionVerdict.Refuse(
                ErrorCodes.Unauthenticated,
                $"{Table.TargetTypeName} requires the right \"{right}\" for {envelope.Payload.GetType().Name}; the message carried no session.");
            return true;
        }

        if (Node.Options.Sessions is not { } verifier)
        {
            verdict = SessionVerdict.Refuse(
                ErrorCodes.Unauthenticated,
                $"{Table.TargetTypeName} requires the right \"{right}\" for {envelope.Payload.GetType().Name}, and node {Node.Name} has no session verifier (NodeOptions.Sessions).");
            return true;
        }

        try
        {
            return verifier.TryVerifyLocal(token, right, out verdict);
        }
#pragma warning disable CA1031 // a faulty verifier refuses the message; it never takes the mailbox down
        catch (Exception ex)
#pragma warning restore CA1031
        {
            verdict = SessionVerdict.Refuse(ErrorCodes.Unauthenticated, $"The session verifier failed: {ex.GetType().Name}.");
            return true;
        }
    }

    private void Admitted(ChannelHandler handler, Envelope envelope, in SessionVerdict verdict)
    {
        if (verdict.IsAllowed)
        {
            Run(handler, envelope, verdict.Identity);
        }
        else
        {
            Node.SessionRefused(this, envelope, verdict);
        }
    }

    /// <summary>Asks the verifier off this thread; the verdict comes back to this mailbox as a system message.</summary>
    private void StartVerification(SessionGate.Stream sender, string token, string right)
    {
        Task<SessionVerdict> verification;
        try
        {
            verification = Node.Options.Sessions!.VerifyAsync(token, right, CancellationToken.None).AsTask();
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            verification = Task.FromException<SessionVerdict>(ex);
        }

        _ = AwaitVerification(verification, sender, Node.Options.DefaultRequestTimeout);
    }

    private async Task AwaitVerification(Task<SessionVerdict> verification, SessionGate.Stream sender, TimeSpan deadline)
    {
        SessionVerdict verdict;
        try
        {
            verdict = await verification.WaitAsync(deadline).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            verdict = SessionVerdict.Refuse(ErrorCodes.Timeout, $"The session was not verified within {deadline.TotalSeconds:0.###} s.");
        }
        catch (TetherException ex)
        {
            verdict = SessionVerdict.Refuse(ex.Code, ex.Message);
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            verdict = SessionVerdict.Refuse(ErrorCodes.Unauthenticated, $"The session verifier failed: {ex.GetType().Name}.");
        }

        PostSystem(new SessionVerified(sender, verdict));
    }

    /// <summary>
    /// The verification of <paramref name="sender"/>'s oldest parked message ended: deliver or refuse it, then go on with
    /// that sender's next parked messages until one needs the session manager again.
    /// </summary>
    private void Resume(SessionGate.Stream sender, in SessionVerdict verdict)
    {
        SessionGate? gate = _gate;
        if (gate is null || !gate.TryPeek(sender, out SessionGate.Parked parked))
        {
            return;
        }

        gate.Dequeue(sender);
        Release(parked, verdict);
        while (gate.TryPeek(sender, out parked))
        {
            SessionVerdict next = default;
            if (IsAlive && parked.Handler.RequiredRight is { } right && !TryVerifyNow(right, parked.Envelope, out next))
            {
                StartVerification(sender, parked.Envelope.Session!, right);
                return;
            }

            gate.Dequeue(sender);
            Release(parked, next);
        }
    }

    private void Release(SessionGate.Parked parked, in SessionVerdict verdict)
    {
        Envelope envelope = parked.Envelope;
        envelope.Held = false;
        if (!IsAlive)
        {
            Node.RejectEnded(this, envelope);
        }
        else if (envelope.Reply is { IsCompleted: true })
        {
            // The requester already has its outcome (timed out while parked).
        }
        else if (parked.Handler.RequiredRight is null)
        {
            Run(parked.Handler, envelope, null);
        }
        else
        {
            Admitted(parked.Handler, envelope, verdict);
        }

        if (!envelope.Held)
        {
            EnvelopePool.Return(envelope);
        }
    }

    /// <summary>
    /// Runs the inbound pipe (preconditions, transforms) and finds the handler for the result, which may be of another
    /// type (v1 → v2, or a projection). False when the pipe refused the message; the node has answered or dropped it.
    /// </summary>
    private bool TryAdapt(PipeCache pipes, Envelope envelope, out ChannelHandler? handler)
    {
        Type type = envelope.Payload.GetType();
        int index = Table.IndexOf(type);
        MessagePipe? pipe;
        try
        {
            pipe = index >= 0 ? pipes.InboundAt(index) : pipes.InboundUnhandled(type);
            if (pipe is not null)
            {
                object adapted = pipe.Apply(envelope.Payload);
                if (!ReferenceEquals(adapted, envelope.Payload))
                {
                    envelope.Payload = adapted;
                    if (!ReferenceEquals(adapted.GetType(), type))
                    {
                        index = Table.IndexOf(adapted.GetType());
                    }
                }
            }
        }
        catch (TetherException ex)
        {
            Node.InboundRejected(this, envelope, ex);
            handler = null;
            return false;
        }
#pragma warning disable CA1031 // a faulty adapter rejects the message; it never takes the mailbox down
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Node.InboundRejected(this, envelope, new TetherException(
                ErrorCodes.HandlerFailed,
                $"The adapters of {Table.TargetTypeName} failed on {type.Name}: {ex.GetType().Name}: {ex.Message}",
                ex));
            handler = null;
            return false;
        }

        handler = index >= 0 ? Table.At(index) : null;
        return true;
    }

    /// <summary>True when the node has adapters; their pipes for this target type are then cached here.</summary>
    public bool HasAdapters => _pipes is not null;

    /// <summary>Applies this target type's postconditions to an outgoing message (without adapters, one null check).</summary>
    public object? AdaptOutbound(object? message) => _pipes is null ? message : _pipes.Outbound(message);

    private void Run(ChannelHandler handler, Envelope envelope, SessionIdentity? identity)
    {
        Activity? outer = null;
        Activity? activity = null;
        if (envelope.HasTrace && Telemetry.Source.HasListeners())
        {
            outer = Activity.Current;
            activity = Telemetry.StartHandle(envelope, Table.TargetTypeName, Address);
        }

        Node.CountHandled();

        if (!handler.IsAsync)
        {
            try
            {
                handler.Invoke(Target, envelope, new Context(this, envelope.Sender, envelope.Session, identity));
            }
#pragma warning disable CA1031 // a handler's failure goes to the requester and to supervision, never up the thread pool
            catch (Exception ex)
#pragma warning restore CA1031
            {
                HandlerFailed(envelope, ex);
            }

            activity?.Dispose();
            return;
        }

        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(Extras.Turn ??= new TurnContext(this));
        try
        {
            ValueTask pending = handler.Invoke(Target, envelope, new Context(this, envelope.Sender, envelope.Session, identity));
            if (pending.IsCompletedSuccessfully)
            {
                pending.GetAwaiter().GetResult();
                activity?.Dispose();
            }
            else
            {
                (Extras.InFlight ??= []).Add(envelope);
                if (!AwaitHandler(pending, envelope, activity).IsCompleted)
                {
                    // Recycled when the handler completes (a later turn of this target), not when this turn ends.
                    envelope.Held = true;
                }
            }
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            activity?.Dispose();
            HandlerFailed(envelope, ex);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
            if (activity is not null)
            {
                // A suspended handler keeps its span (its awaits captured it); the next message in this run must not inherit it.
                Activity.Current = outer;
            }
        }
    }

    // Started while the turn context is installed, so its own continuation is a turn of this target too.
    private async Task AwaitHandler(ValueTask pending, Envelope envelope, Activity? activity)
    {
        try
        {
            await pending;
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (IsAlive)
            {
                HandlerFailed(envelope, ex);
            }
        }
        finally
        {
            _extras?.InFlight?.Remove(envelope);
            activity?.Dispose();
            if (envelope.Held)
            {
                EnvelopePool.Return(envelope); // else it completed inside Run, and the mailbox recycles it
            }
        }
    }

    private void HandlerFailed(Envelope envelope, Exception ex)
    {
        string messageType = envelope.Payload.GetType().Name;
        if (ex is TetherException answer)
        {
            // A deliberate error answer: it goes to the requester; supervision is for faults, not for answers.
            if (envelope.Reply is null || !envelope.Reply.TryFail(answer))
            {
                Log.ErrorAnswerLost(Node.Logger, Table.TargetTypeName, Address, messageType, answer.Code, answer.Message);
            }

            return;
        }

        envelope.Reply?.TryFail(new TetherException(
            ErrorCodes.HandlerFailed,
            $"{Table.TargetTypeName} at {Address} failed handling {messageType}: {ex.GetType().Name}: {ex.Message}",
            ex));
        Node.CountFailure();
        Log.HandlerFailed(Node.Logger, ex, Table.TargetTypeName, Address, messageType, _supervision);
        switch (_supervision)
        {
            case Supervision.Restart:
                Restart();
                break;
            case Supervision.Stop:
                EndNow($"stopped by supervision after {ex.GetType().Name} in {messageType}");
                break;
            default:
                break;
        }
    }

    private void Restart()
    {
        Target fresh;
        try
        {
            fresh = _create();
            fresh.Cell = this;
            Target = fresh;
            fresh.OnStarted(new Context(this, default));
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.RestartFailed(Node.Logger, ex, Table.TargetTypeName, Address);
            EndNow($"restart failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private void HandleSystem(Envelope envelope)
    {
        switch (envelope.Payload)
        {
            case Continuation continuation:
                if (IsAlive)
                {
                    RunTurn(continuation);
                }

                break;
            case EndSignal end:
                if (end.Trusted || end.RequestedBy.IsNone || end.RequestedBy == Owner || end.RequestedBy == Address)
                {
                    EndNow(end.Reason);
                }
                else
                {
                    Log.EndRefused(Node.Logger, Address, end.RequestedBy, Owner);
                }

                break;
            case ChildAdded added:
                if (IsAlive)
                {
                    (Extras.Children ??= []).Add(added.Child);
                }
                else if (added.Child.TetherPolicy is { EndWhenOwnerEnds: true })
                {
                    added.Child.PostSystem(new EndSignal("owner ended", Address, Trusted: true));
                }

                break;
            case RemoteChildAdded remote:
                if (IsAlive)
                {
                    (Extras.RemoteChildren ??= []).Add(remote.Child);
                }
                else
                {
                    Node.Remote?.End(Address, remote.Child, "owner ended", ownerEnded: true);
                }

                break;
            case ChildEnded ended:
                _extras?.Children?.Remove(ended.Child);
                if (IsAlive && Table.Find(typeof(TargetEnded)) is { } onEnded)
                {
                    Run(onEnded, new Envelope(Category.Send, ended.Child.Address, new TargetEnded(ended.Child.Address, ended.Reason), null), null);
                }

                break;
            case LeaseRenewal:
                if (IsAlive && _tie?.Policy.Lease is { } lease && _extras is not null)
                {
                    _extras.LeaseExpiry = Node.TimeProvider.GetTimestamp() + ToTicks(lease);
                }

                break;
            case LeaseCheck:
                CheckLease();
                break;
            case SessionVerified verified:
                Resume(verified.Sender, verified.Verdict);
                break;
            case EndWatch watch:
                if (IsAlive)
                {
                    (Extras.Watchers ??= []).Add(watch);
                }
                else
                {
                    NotifyEnded(watch, _extras?.EndReason ?? "ended");
                }

                break;
            case EndUnwatch unwatch:
                _extras?.Watchers?.RemoveAll(w => w.Watcher == unwatch.Watcher);
                break;
            case WatchedEnded watched:
                if (IsAlive && _extras?.Watching?.Remove(watched.Target) == true && Table.Find(typeof(TargetEnded)) is { } onWatched)
                {
                    Run(onWatched, new Envelope(Category.Send, watched.Target, new TargetEnded(watched.Target, watched.Reason), null), null);
                }

                break;
            default:
                break;
        }
    }

    /// <summary>Starts watching <paramref name="target"/> (from this target's own handler): its end arrives once as <see cref="TargetEnded"/>.</summary>
    public void Watch(Address target)
    {
        if (Table.Find(typeof(TargetEnded)) is null)
        {
            throw new InvalidOperationException(
                $"{Table.TargetTypeName} watches {target} but wires no input channel for TargetEnded; add .On<TargetEnded>(...) to its Wire.");
        }

        if (!(Extras.Watching ??= []).Add(target))
        {
            return; // already watched: the end arrives once
        }

        if (Node.FindLocal(target) is { } cell)
        {
            cell.PostSystem(new EndWatch(this, null));
        }
        else if (Node.IsRemote(target) && Node.Remote is not null)
        {
            Extras.Watching.Remove(target);
            throw new NotSupportedException(
                $"{Table.TargetTypeName} cannot watch {target}: watching a target on another node is not available yet. Watch local targets, or tether a remote instance to its owner (TetherPolicy).");
        }
        else
        {
            PostSystem(new WatchedEnded(target, "no such target"));
        }
    }

    /// <summary>Stops watching <paramref name="target"/>; an end already on its way is not delivered.</summary>
    public void Unwatch(Address target)
    {
        if (_extras?.Watching?.Remove(target) == true && Node.FindLocal(target) is { } cell)
        {
            cell.PostSystem(new EndUnwatch(this));
        }
    }

    private void NotifyEnded(EndWatch watch, string reason)
    {
        watch.Waiter?.TrySetResult();
        watch.Watcher?.PostSystem(new WatchedEnded(Address, reason));
    }

    private void RunTurn(Continuation continuation)
    {
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(Extras.Turn ??= new TurnContext(this));
        try
        {
            continuation.Callback(continuation.State);
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.TurnFailed(Node.Logger, ex, Table.TargetTypeName, Address);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>Sets the owner and tether; called by the spawner before the cell is published.</summary>
    public void Tether(Address owner, TargetCell? ownerCell, TetherPolicy policy)
    {
        _tie = new OwnerTie(owner, ownerCell, policy);
        if (policy.Lease is { } lease)
        {
            CellExtras extras = Extras;
            extras.LeaseExpiry = Node.TimeProvider.GetTimestamp() + ToTicks(lease);
            extras.LeaseTimer = Node.TimeProvider.CreateTimer(static s => ((TargetCell)s!).PostSystem(LeaseCheck.Instance), this, lease, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Adds a tethered instance; only from this cell's own turn.</summary>
    public void AddChild(TargetCell child) => (Extras.Children ??= []).Add(child);

    private void CheckLease()
    {
        if (!IsAlive || _tie?.Policy.Lease is null || _extras is null)
        {
            return;
        }

        long remaining = _extras.LeaseExpiry - Node.TimeProvider.GetTimestamp();
        if (remaining <= 0)
        {
            EndNow("lease expired");
            return;
        }

        _extras.LeaseTimer?.Change(TimeSpan.FromSeconds((double)remaining / Node.TimeProvider.TimestampFrequency), Timeout.InfiniteTimeSpan);
    }

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Node.TimeProvider.TimestampFrequency);

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

    /// <summary>
    /// Ends the target, on its own turn: frees the address, stops timers and subscriptions, fails requests it
    /// was still working on, ends tethered instances, runs OnEnded and tells the owner. Messages still queued
    /// are rejected as the mailbox drains.
    /// </summary>
    public void EndNow(string reason)
    {
        if (Interlocked.Exchange(ref _state, Ended) == Ended)
        {
            return;
        }

        Node.Unregister(this);
        CellExtras? extras = _extras;

        if (extras is not null)
        {
            List<TimerHandle>? timers;
            lock (extras)
            {
                timers = extras.Timers;
                extras.Timers = null;
            }

            timers?.ForEach(static t => t.Dispose());
            extras.LeaseTimer?.Dispose();
            string[] services;
            lock (extras)
            {
                services = extras.Services?.ToArray() ?? [];
            }

            foreach (string service in services)
            {
                Node.RemoveServiceInstance(service, this);
            }

            if (extras.Topics is { } topics)
            {
                foreach (string topic in topics.ToArray())
                {
                    Node.Topics.Unsubscribe(this, topic);
                }
            }

            if (extras.InFlight is { } inFlight)
            {
                foreach (Envelope pending in inFlight)
                {
                    pending.Reply?.TryFail(new TetherException(
                        ErrorCodes.TargetEnded,
                        $"{Table.TargetTypeName} at {Address} ended ({reason}) before answering {pending.Payload.GetType().Name}."));
                }

                inFlight.Clear();
            }

            if (extras.Children is { } children)
            {
                foreach (TargetCell child in children)
                {
                    if (child.TetherPolicy is { EndWhenOwnerEnds: true })
                    {
                        child.PostSystem(new EndSignal("owner ended", Address, Trusted: true));
                    }
                }

                children.Clear();
            }

            if (extras.RemoteChildren is { } remoteChildren)
            {
                foreach (Address child in remoteChildren)
                {
                    Node.Remote?.End(Address, child, "owner ended", ownerEnded: true);
                }

                remoteChildren.Clear();
            }
        }

        try
        {
            Target.OnEnded(new Context(this, default), reason);
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.OnEndedFailed(Node.Logger, ex, Table.TargetTypeName, Address);
        }

        Log.TargetEnded(Node.Logger, Table.TargetTypeName, Address, reason);
        _tie?.OwnerCell?.PostSystem(new ChildEnded(this, reason));
        if (extras?.Watchers is { } watchers)
        {
            foreach (EndWatch watch in watchers)
            {
                NotifyEnded(watch, reason);
            }

            watchers.Clear();
        }

        if (extras is not null)
        {
            extras.EndReason = reason; // for a watch that arrives after the end (without extras, it is told "ended")
        }
    }
}
