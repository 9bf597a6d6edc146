using System.Runtime.CompilerServices;

namespace Tether.Internal;

/// <summary>
/// One parked stream's question to the session verifier, in flight: it ends once, with the verifier's verdict or, when
/// none comes in time, with a timeout refusal from the node's deadline sweep (no timer and no wrapping task of its own).
/// </summary>
/// <remarks>
/// The verdict goes to the cell on the thread that completes the verifier's task (<see cref="TargetCell.Verified"/>):
/// when the target is idle there, the parked message runs on that thread at once, in one dispatch, instead of a
/// continuation that posts a system message for which the target is then scheduled (two).
/// </remarks>
internal sealed class SessionVerification : DeadlineSweeper.IExpiring
{
    private readonly TargetCell _cell;
    private readonly SessionGate.Stream _sender;
    private ConfiguredValueTaskAwaitable<SessionVerdict>.ConfiguredValueTaskAwaiter _awaiter;
    private int _done;

    private SessionVerification(TargetCell cell, SessionGate.Stream sender, TimeSpan timeout)
    {
        _cell = cell;
        _sender = sender;
        Timeout = timeout;
    }

    public long Deadline { get; set; }

    public TimeSpan Timeout { get; }

    public bool IsCompleted => Volatile.Read(ref _done) != 0;

    /// <summary>Waits for <paramref name="verification"/> (already started) and hands its verdict to <paramref name="cell"/>.</summary>
    public static void Start(TargetCell cell, SessionGate.Stream sender, ValueTask<SessionVerdict> verification, TimeSpan timeout)
    {
        var pending = new SessionVerification(cell, sender, timeout);
        ConfiguredValueTaskAwaitable<SessionVerdict>.ConfiguredValueTaskAwaiter awaiter = verification.ConfigureAwait(false).GetAwaiter();
        if (awaiter.IsCompleted)
        {
            pending.Finish(Read(awaiter), mayRunHere: false); // the consumer is running (it started this): a system message
            return;
        }

        pending._awaiter = awaiter;
        cell.Node.Deadlines.Add(pending);
        awaiter.UnsafeOnCompleted(pending.OnVerdict);
    }

    // The sweep's thread (or a stopping node's) ends many at once: it posts the refusal rather than run the target there.
    public void Expire()
        => Finish(SessionVerdict.Refuse(ErrorCodes.Timeout, $"The session was not verified within {Timeout.TotalSeconds:0.###} s."), mayRunHere: false);

    public bool TryFail(TetherException error) => Finish(SessionVerdict.Refuse(error.Code, error.Message), mayRunHere: false);

    // Always read, even after the deadline won: a pooled value-task source is given back only by its GetResult.
    private void OnVerdict() => Finish(Read(_awaiter), mayRunHere: true);

    private bool Finish(in SessionVerdict verdict, bool mayRunHere)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return false;
        }

        _cell.Verified(_sender, verdict, mayRunHere);
        return true;
    }

    private static SessionVerdict Read(ConfiguredValueTaskAwaitable<SessionVerdict>.ConfiguredValueTaskAwaiter awaiter)
    {
        try
        {
            return awaiter.GetResult();
        }
        catch (TetherException ex)
        {
            return SessionVerdict.Refuse(ex.Code, ex.Message);
        }
#pragma warning disable CA1031 // a faulty verifier refuses the message; it never takes the mailbox down
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return SessionVerdict.Refuse(ErrorCodes.Unauthenticated, $"The session verifier failed: {ex.GetType().Name}.");
        }
    }
}
