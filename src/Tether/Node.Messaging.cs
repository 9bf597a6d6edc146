using System.Diagnostics;
using Tether.Internal;

namespace Tether;

public sealed partial class Node
{
    /// <summary>
    /// Sends a message from outside any target (the sender is <see cref="Address.None"/>), fire and forget, carrying
    /// <paramref name="session"/> (a session token, for a protected input channel) when given.
    /// </summary>
    public void Send<T>(Address to, T message, string? session = null)
        where T : notnull
        => Deliver(default, to, message, Category.Send, null, Telemetry.CurrentTrace(), session);

    /// <summary>
    /// Sends a request from outside any target. The task completes with the answer or fails with a
    /// <see cref="TetherException"/>; it always ends, at the latest at its deadline (<paramref name="timeout"/>, or the node's default).
    /// <paramref name="session"/> is the session token it carries, for a protected input channel (<see cref="Channels{TSelf}.Requires"/>).
    /// </summary>
    public ValueTask<TResponse> Request<TResponse>(Address to, IRequest<TResponse> request, TimeSpan? timeout = null, string? session = null)
        => SendRequest(default, to, request, timeout, session);

    /// <summary>
    /// Publishes an event on a topic from outside any target: to this node's subscribers at once and, with a broker
    /// proxy attached, to the other nodes' over the wire.
    /// </summary>
    /// <returns>How many subscribers <em>on this node</em> it was delivered to. Subscribers on other nodes are not counted
    /// (the event reaches them later, at most once), so 0 does not mean that nobody gets it.</returns>
    public int Publish<T>(string topic, T @event)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(@event);
        return Topics.Publish(default, topic, @event, Telemetry.CurrentTrace());
    }

    internal ValueTask<TResponse> SendRequest<TResponse>(Address sender, Address to, IRequest<TResponse> request, TimeSpan? timeout, string? session = null)
    {
        (PendingRequest<TResponse> pending, ActivityContext trace) = NewPending(request, to, timeout);
        Deliver(sender, to, request, Category.Request, pending, trace, session);
        return pending.Task;
    }

    /// <summary>A request awaiting its outcome, registered for its deadline, with its span started when someone listens.</summary>
    private (PendingRequest<TResponse> Pending, ActivityContext Trace) NewPending<TResponse>(IRequest<TResponse> request, Address to, TimeSpan? timeout, string? service = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        TimeSpan deadline = timeout ?? Options.DefaultRequestTimeout;
        if (deadline <= TimeSpan.Zero || deadline == Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A request's timeout must be finite and positive.");
        }

        var pending = new PendingRequest<TResponse>(this, request.GetType(), to, deadline, service);
        ActivityContext trace = default;
        if (Telemetry.Source.HasListeners())
        {
            Activity? parent = Activity.Current;
            trace = parent?.Context ?? default;
            Activity? activity = Telemetry.StartRequest(request.GetType(), to, service);
            if (activity is not null)
            {
                pending.Activity = activity;
                trace = activity.Context;
                Activity.Current = parent; // The request span stays open until the outcome; the caller's span goes on.
            }
        }

        Deadlines.Add(pending); // after the span is attached: a request refused here (node stopped) still closes its span
        return (pending, trace);
    }

    internal void Deliver(Address sender, Address to, object message, Category category, ReplySink? reply, ActivityContext trace, string? session = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        TargetCell? cell = to.Cell;

        // The mailbox shortcut holds for this node's own addresses only: several nodes may share a process (an
        // in-memory network, a test cluster), and another node's target is reached through the transport. The name
        // is the very string of the node that made the address, so the check reads nothing of the target's cell; an
        // equal name (an earlier incarnation of this node) keeps its cell, which has ended: never a new target's.
        if (cell is not null && !IsOwnName(to.Node))
        {
            cell = null;
        }

        if (cell is null)
        {
            if (to.IsNone)
            {
                Undeliverable(sender, to, message, reply, ErrorCodes.NoSuchTarget, "the address is Address.None");
                return;
            }

            if (!string.Equals(to.Node, Name, StringComparison.Ordinal))
            {
                if (Remote is { } remote)
                {
                    remote.Deliver(sender, to, message, (MessageKind)category, reply, trace, session);
                    return;
                }

                Undeliverable(sender, to, message, reply, ErrorCodes.NoSuchTarget, $"node {to.Node} is not this node ({Name}) and no broker proxy is attached");
                return;
            }

            if (!_cells.TryGetValue(to.Id, out cell))
            {
                Undeliverable(sender, to, message, reply, ErrorCodes.NoSuchTarget, "no live target has this address");
                return;
            }
        }

        DeliverTo(cell, sender, message, category, reply, trace, session);
    }

    internal void DeliverTo(TargetCell cell, Address sender, object message, Category category, ReplySink? reply, ActivityContext trace, string? session = null)
    {
        Envelope envelope = EnvelopePool.Rent(category, sender, message, reply);
        if (session is not null)
        {
            envelope.Session = session; // a rented envelope has none: writing null would still cost a GC write barrier
        }

        if (trace.TraceId != default)
        {
            envelope.Trace = trace;
        }

        Post(cell, envelope);
    }

    /// <summary>
    /// Delivers to the target <paramref name="id"/> of this node as part of <paramref name="run"/>: consecutive messages
    /// for one target wait in the run and are posted together (<see cref="TargetCell.PostChain"/>), at most
    /// <see cref="DeliveryRun.MaxCount"/> at a time, when the target changes or at <see cref="Flush"/>. For a transport
    /// unpacking a batch from the wire; the caller flushes before anything else that must keep its order after them.
    /// </summary>
    internal void Deliver(ref DeliveryRun run, Address sender, long id, object message, Category category, ReplySink? reply, ActivityContext trace, string? session = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        // The run's own copy of the id and node is compared, not the cell's: the cell's line is the one its running
        // consumer writes for every message it takes, so reading it for every delivery would miss every time.
        if (run.Cell is not null && run.Id == id && run.Node == this)
        {
            if (run.Count == DeliveryRun.MaxCount)
            {
                Flush(ref run);
            }
        }
        else
        {
            Flush(ref run);
            if (!_cells.TryGetValue(id, out TargetCell? cell))
            {
                Undeliverable(sender, new Address(Name, id), message, reply, ErrorCodes.NoSuchTarget, "no live target has this address");
                return;
            }

            run.Cell = cell;
            run.Id = id;
            run.Node = this;
        }

        // A new envelope, not one from the pool: the pool's envelopes here are the ones the receiving targets gave back
        // on their own cores, so each would be a cache miss on the other core's line, and in a chain walked one by one
        // (blast over NATS, alternating full runs: process CPU 1,269 -> 1,035 ms per million messages, 1.19 -> 1.34 M msg/s).
        var envelope = new Envelope(category, sender, message, reply) { Session = session };
        if (trace.TraceId != default)
        {
            envelope.Trace = trace;
        }

        envelope.Next = run.Newest;
        run.Oldest ??= envelope;
        run.Newest = envelope;
        run.Count++;
    }

    /// <summary>
    /// How many more messages the mailbox of target <paramref name="id"/> takes now, less those waiting for it in
    /// <paramref name="run"/>; <see cref="int.MaxValue"/> when no live target has the id (a delivery gets its answer).
    /// </summary>
    internal int MailboxRoom(ref DeliveryRun run, long id)
    {
        TargetCell? cell = run.Cell is not null && run.Id == id && run.Node == this ? run.Cell : _cells.GetValueOrDefault(id);
        if (cell is null || !cell.IsAlive)
        {
            return int.MaxValue;
        }

        return cell.Capacity - cell.Depth - (ReferenceEquals(run.Cell, cell) ? run.Count : 0);
    }

    /// <summary>Posts what waits in <paramref name="run"/>; the run is empty after it.</summary>
    internal static void Flush(ref DeliveryRun run)
    {
        if (run.Count == 0)
        {
            return;
        }

        TargetCell cell = run.Cell!;
        Envelope newest = run.Newest!;
        Envelope oldest = run.Oldest!;
        int count = run.Count;
        run.Newest = run.Oldest = null;
        run.Count = 0;
        PostResult result = cell.PostChain(newest, oldest, count);
        if (result == PostResult.Accepted)
        {
            if (cell.Node._sent.Enabled)
            {
                cell.Node._sent.Add(count);
            }

            return;
        }

        // Not whole: one by one, oldest first, so each gets the answer a single post would (what fits is taken).
        Envelope? previous = null;
        for (Envelope? e = newest; e is not null;)
        {
            Envelope? next = e.Next;
            e.Next = previous;
            previous = e;
            e = next;
        }

        // Every envelope gets its outcome even if answering one of them throws (a failing reply path): the first
        // exception is rethrown once all are posted.
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
        for (Envelope? e = previous; e is not null;)
        {
            Envelope? next = e.Next;
            e.Next = null;
            try
            {
                cell.Node.Post(cell, e);
            }
#pragma warning disable CA1031 // collected and rethrown below
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure ??= System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
            }

            e = next;
        }

        failure?.Throw();
    }

    /// <summary>
    /// A send from a target's handler to a target of this node, without adapters: the common case, kept short (no
    /// address lookup, the trace context read only when an activity is current).
    /// </summary>
    /// <remarks>
    /// Inside the sender's own run on this thread, the send waits in the run (<see cref="RunScope"/>'s pending chain):
    /// consecutive sends to one target are posted as one chain, up to <see cref="DeliveryRun.MaxCount"/> at a time, with
    /// one atomic for the bound and one push for the chain. The chain is posted before anything else that enters a
    /// mailbox from this thread (<see cref="RunScope.FlushPending"/> in every post), when the sender sends to another
    /// target, and before the sender's run takes its next messages or ends, so one sender's messages keep their order.
    /// </remarks>
    internal void SendLocal(TargetCell from, TargetCell to, object message, string? session)
    {
        ArgumentNullException.ThrowIfNull(message);
        RunScope? scope = RunScope.Current;
        Envelope envelope;
        bool pend = scope is not null && ReferenceEquals(scope.Running, from);
        envelope = pend ? EnvelopePool.Rent(scope!.Pool, Category.Send, from, message) : EnvelopePool.Rent(Category.Send, from, message);
        if (session is not null)
        {
            envelope.Session = session; // a rented envelope has none: writing null would still cost a GC write barrier
        }

        ActivityContext trace = Telemetry.CurrentTrace();
        if (trace.TraceId != default)
        {
            envelope.Trace = trace;
        }

        if (!pend)
        {
            Post(to, envelope);
            return;
        }

        ref DeliveryRun pending = ref scope!.Pending;
        if (pending.Count != 0 && (!ReferenceEquals(pending.Cell, to) || pending.Count == DeliveryRun.MaxCount))
        {
            Flush(ref pending);
        }

        if (pending.Count == 0)
        {
            pending.Cell = to;
            pending.Oldest = envelope;
        }
        else
        {
            envelope.Next = pending.Newest;
        }

        pending.Newest = envelope;
        pending.Count++;
    }

    private void Post(TargetCell cell, Envelope envelope)
    {
        PostResult result = cell.Post(envelope);
        if (result == PostResult.Accepted)
        {
            if (_sent.Enabled)
            {
                _sent.Add(1);
            }

            return;
        }

        (Address sender, object message, ReplySink? reply) = (envelope.Sender, envelope.Payload, envelope.Reply);
        EnvelopePool.Return(envelope);
        switch (result)
        {
            case PostResult.Full:
                if (reply is not null)
                {
                    reply.TryFail(new TetherException(
                        ErrorCodes.MailboxFull,
                        $"The mailbox of {cell.Table.TargetTypeName} at {cell.Address} is full; {message.GetType().Name} was rejected."));
                    return;
                }

                long dropped = Interlocked.Increment(ref _dropped);
                _droppedCounter.Add(1);
                if ((dropped & (dropped - 1)) == 0)
                {
                    // Logged at 1, 2, 4, 8, ... drops: visible, but never a flood.
                    Log.Dropped(Logger, cell.Table.TargetTypeName, cell.Address, cell.Depth, message.GetType().Name, dropped);
                }

                return;
            default:
                Undeliverable(sender, cell.Address, message, reply, ErrorCodes.NoSuchTarget, "the target has ended");
                return;
        }
    }

    internal void RejectEnded(TargetCell cell, Envelope envelope)
    {
        if (envelope.Reply is not null)
        {
            envelope.Reply.TryFail(new TetherException(
                ErrorCodes.TargetEnded,
                $"{cell.Table.TargetTypeName} at {cell.Address} ended before it handled {envelope.Payload.GetType().Name}."));
            return;
        }

        CountDeadLetter(envelope.Payload, envelope.Sender, cell.Address, "the target ended first");
    }

    internal void NoHandler(TargetCell cell, Envelope envelope)
    {
        string text = $"{cell.Table.TargetTypeName} at {cell.Address} has no input channel for {envelope.Payload.GetType().Name}.";
        if (envelope.Reply is not null)
        {
            envelope.Reply.TryFail(new TetherException(ErrorCodes.NoHandler, text));
            return;
        }

        if (envelope.Category != Category.Event)
        {
            CountDeadLetter(envelope.Payload, envelope.Sender, cell.Address, text);
        }
    }

    private void Undeliverable(Address sender, Address to, object message, ReplySink? reply, string code, string why)
    {
        if (reply is not null)
        {
            reply.TryFail(new TetherException(code, $"{message.GetType().Name} could not be delivered to {to}: {why}."));
            return;
        }

        CountDeadLetter(message, sender, to, why);
    }

    internal void CountDeadLetter(object message, Address sender, Address to, string why)
    {
        Interlocked.Increment(ref _deadLetters);
        _deadLetterCounter.Add(1);
        Log.DeadLetter(Logger, message.GetType().Name, sender, to, why);
    }
}
