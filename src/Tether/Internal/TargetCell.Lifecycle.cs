namespace Tether.Internal;

// Lifecycle: supervision of a failed handler (resume, restart, stop) and the end of the target.
internal sealed partial class TargetCell
{
    private readonly byte _supervision; // a Supervision (see TargetCell.cs for why a byte)

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
        Log.HandlerFailed(Node.Logger, ex, Table.TargetTypeName, Address, messageType, (Supervision)_supervision);
        switch ((Supervision)_supervision)
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
        if (extras?.Watching is { Count: > 0 } watching)
        {
            Node.WatcherEnded(this, watching); // the targets it watched, here or on other nodes, forget it (before anyone learns of this end)
        }

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
