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
}
