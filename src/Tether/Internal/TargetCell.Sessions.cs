namespace Tether.Internal;

// The session gate: a message for a protected input channel runs when its session verifies now, is refused when it
// is known bad, or is parked (behind its sender's earlier parked messages) while the verifier asks elsewhere.
internal sealed partial class TargetCell
{
    private SessionGate? _gate; // messages parked while their session is verified elsewhere; null until the first

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

        var stream = new SessionGate.Stream(envelope.Sender, envelope.Session);
        gate.Park(envelope, handler, stream);
        StartVerification(stream, envelope.Session!, handler.RequiredRight!);
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

    /// <summary>
    /// Asks the verifier; its verdict comes back through <see cref="Verified"/>, on whichever thread ends the question.
    /// The run is hidden while the verifier is called: a question it sends to another node leaves at once, not when this
    /// run ends (the parked message waits for that answer, and nothing the run does later goes with it).
    /// </summary>
    private void StartVerification(SessionGate.Stream sender, string token, string right)
    {
        ValueTask<SessionVerdict> verification;
        RunScope? hidden = RunScope.Hide();
        try
        {
            verification = Node.Options.Sessions!.VerifyAsync(token, right, CancellationToken.None);
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            verification = ValueTask.FromException<SessionVerdict>(ex);
        }
        finally
        {
            RunScope.Unhide(hidden);
        }

        SessionVerification.Start(this, sender, verification, Node.Options.DefaultRequestTimeout);
    }

    /// <summary>
    /// The verdict for <paramref name="sender"/>'s oldest parked message, on the thread that ended the verification. When
    /// <paramref name="mayRunHere"/> (the verifier's answer, not a deadline sweep), this target is idle and the thread is a plain thread-pool thread (no run of a target or of a transport's answers
    /// going on, no synchronization context), this thread takes the target's run: the parked message is handled here and
    /// now, then the mailbox as usual — one dispatch after the answer, not a system message and a second one. Otherwise
    /// (the target is running, or the thread is not one to run targets on) the verdict waits in the mailbox as a system
    /// message, after what is there already.
    /// </summary>
    /// <remarks>
    /// Taking the run is the same Idle → Busy CAS a producer wins before it schedules the cell, so one handler at a time
    /// holds. Order holds too: the sender's parked messages are older than any of its messages still in the inbox, and
    /// those park behind the parked ones while any is left.
    /// </remarks>
    internal void Verified(SessionGate.Stream sender, in SessionVerdict verdict, bool mayRunHere)
    {
        if (mayRunHere && Thread.CurrentThread.IsThreadPoolThread && !RunScope.IsOpen && SynchronizationContext.Current is null
            && Volatile.Read(ref _status) == Idle && Interlocked.CompareExchange(ref _status, Busy, Idle) == Idle)
        {
            RunScope? run = RunScope.Open();
            if (run is not null)
            {
                run.Running = this; // as in Execute: this target's sends wait in the run and leave as chains
            }

            try
            {
                _gate!.VerdictsRunHere++; // a verdict is for a parked message: the gate exists
                Resume(sender, verdict);
                RunBatch(run);
            }
            finally
            {
                RunScope.Close(run);
            }

            return;
        }

        PostSystem(new SessionVerified(sender, verdict));
    }

    /// <summary>Verdicts whose parked message this cell handled on the verdict's own thread (for tests; the consumer alone writes it).</summary>
    internal int VerdictsRunHere => _gate?.VerdictsRunHere ?? 0;

    /// <summary>True while no run of this cell is going on or scheduled (for tests).</summary>
    internal bool IsIdle => Volatile.Read(ref _status) == Idle;

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
}
