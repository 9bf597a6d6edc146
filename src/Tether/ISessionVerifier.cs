namespace Tether;

/// <summary>
/// Verifies session tokens for the mailboxes of protected input channels (<see cref="Channels{TSelf}.Requires"/>).
/// Set it as <see cref="NodeOptions.Sessions"/>; <c>Tether.Sessions</c> provides one that checks signatures locally,
/// caches verified tokens until they expire or are revoked, and asks the session manager service otherwise.
/// </summary>
/// <remarks>
/// The mailbox first calls <see cref="TryVerifyLocal"/> on the target's own thread: it must be fast and must never block.
/// When it returns false, the message is parked (the target goes on with other messages; one sender's messages under one session
/// keep their order) and <see cref="VerifyAsync"/> decides; the message is then delivered or refused with the verdict's code.
/// Neither method may throw for a malformed token: a bad token is a refusal, not an exception.
/// <para>The thread that completes the task of <see cref="VerifyAsync"/> may handle the parked message there and then (when
/// it is a thread-pool thread running no target and the target is idle), so complete it from the thread pool or an I/O
/// completion, never from inside a lock or from a thread that must not run user code; otherwise the message waits in the
/// target's mailbox for its next run.</para>
/// </remarks>
public interface ISessionVerifier
{
    /// <summary>
    /// Answers from what this node knows already (a cached verification, a signature that does not hold, an expiry).
    /// Returns true with the <paramref name="verdict"/> when the answer is known now; false when the session manager must be asked.
    /// </summary>
    bool TryVerifyLocal(string token, string right, out SessionVerdict verdict);

    /// <summary>Decides with the help of whoever can (the session manager), without blocking a thread.</summary>
    ValueTask<SessionVerdict> VerifyAsync(string token, string right, CancellationToken cancellationToken);
}
