using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tether.Sessions.Internal;

namespace Tether.Sessions;

// SessionVerifier, part: asking the session manager about a token this node has not verified yet (one question per
// token in flight, its answer cached).
public sealed partial class SessionVerifier
{
    /// <summary>
    /// The manager's answer for <paramref name="token"/>, whose claims this node read as <paramref name="claims"/> (the
    /// signature not necessarily checked here): one question per token however many wait for it.
    /// </summary>
    private Task<Outcome> Ask(string token, TokenClaims claims)
    {
        Task<Outcome> shared = _inflight.GetOrAdd(token, static (t, state) => state.Self.AskAsync(t, state.Claims), (Self: this, Claims: claims));
        if (shared.IsCompleted)
        {
            _inflight.TryRemove(new KeyValuePair<string, Task<Outcome>>(token, shared)); // it ended before it was added
        }

        return shared;
    }

    private async Task<SessionVerdict> VerifyRemoteAsync(string token, Task<Outcome> shared, string right, CancellationToken cancellationToken)
    {
        Outcome outcome;
        try
        {
            outcome = await shared.WaitAsync(cancellationToken).ConfigureAwait(false);
            _inflight.TryRemove(new KeyValuePair<string, Task<Outcome>>(token, shared)); // in case it ended while GetOrAdd added it
        }
        catch (OperationCanceledException)
        {
            return Refused(SessionVerdict.Refuse(ErrorCodes.Unauthenticated, "The verification of the session was cancelled."));
        }

        if (outcome.Identity is not { } identity)
        {
            return Refused(outcome.Refusal);
        }

        if (!HasRight(outcome.Rights!, right))
        {
            return Refused(Forbidden(identity.UserName, right));
        }

        return SessionVerdict.Allow(identity);
    }

    /// <summary>
    /// Asks the session manager to confirm the token (<see cref="ConfirmSession"/>); never throws. The manager checks the
    /// signature of this very token, so once it confirms, the claims read here from the same text are the session's: the
    /// identity is built from them, and the answer carries nothing back but "yes". It is cached before the shared task
    /// completes.
    /// </summary>
    private async Task<Outcome> AskAsync(string token, TokenClaims claims)
    {
        // No hop to the pool first: the question leaves on the caller's thread (a mailbox's, which hides its run for this
        // call, so the question is published at once rather than when the run ends). An answer that comes before
        // GetOrAdd returns is taken out of _inflight by Ask.
        Interlocked.Increment(ref _asking);
        using Activity? activity = SessionTelemetry.Source.StartActivity("sessions.verify.remote", ActivityKind.Client);
        try
        {
            SessionTelemetry.VerifiedRemote.Add(1);
            bool confirmed;
            try
            {
                confirmed = await _node!.Request(_options.ServiceName, new ConfirmSession(token), _options.VerifyTimeout).ConfigureAwait(false);
            }
            catch (TetherException ex) when (ex.Code is ErrorCodes.NoHandler or ErrorCodes.BadRequest)
            {
                // A manager of an earlier version (no ConfirmSession channel, or not the contract): the long question.
                SessionIdentity verified = await _node!.Request(_options.ServiceName, new VerifySession(token, null), _options.VerifyTimeout).ConfigureAwait(false);
                confirmed = string.Equals(verified.SessionId, claims.SessionId, StringComparison.Ordinal);
            }

            activity?.SetTag("tether.sessions.session_id", claims.SessionId);
            activity?.SetTag("tether.sessions.user", claims.UserName);
            if (!confirmed)
            {
                activity?.SetStatus(ActivityStatusCode.Error, ErrorCodes.Unauthenticated);
                return new Outcome(null, null, SessionVerdict.Refuse(ErrorCodes.Unauthenticated, $"The session manager (service \"{_options.ServiceName}\") did not confirm the session."));
            }

            SessionIdentity identity = claims.ToIdentity();
            AddToCache(token, new CachedSession(identity, claims.Rights, claims.ExpiresAt.UtcTicks));
            return new Outcome(identity, claims.Rights, default);
        }
        catch (TetherException ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Code);
            bool sessionCode = ex.Code is ErrorCodes.Unauthenticated or ErrorCodes.Forbidden or ErrorCodes.SessionExpired or ErrorCodes.SessionRevoked;
            if (!sessionCode)
            {
                LogManagerUnreachable(_logger, _options.ServiceName, ex.Code, ex.Message);
            }

            return new Outcome(null, null, sessionCode
                ? SessionVerdict.Refuse(ex.Code, ex.Message)
                : SessionVerdict.Refuse(ErrorCodes.Unauthenticated, $"The session manager (service \"{_options.ServiceName}\") could not verify the session: [{ex.Code}] {ex.Message}"));
        }
#pragma warning disable CA1031 // never throws: a failure is a refusal
        catch (Exception ex)
#pragma warning restore CA1031
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            LogManagerUnreachable(_logger, _options.ServiceName, ex.GetType().Name, ex.Message);
            return new Outcome(null, null, SessionVerdict.Refuse(ErrorCodes.Unauthenticated, $"The session manager could not verify the session ({ex.GetType().Name})."));
        }
        finally
        {
            Interlocked.Decrement(ref _asking);
            _inflight.TryRemove(token, out _);
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "The session manager (service {Service}) could not verify a session: [{Code}] {Text}")]
    private static partial void LogManagerUnreachable(ILogger logger, string service, string code, string text);

    private readonly record struct Outcome(SessionIdentity? Identity, string[]? Rights, SessionVerdict Refusal);
}
