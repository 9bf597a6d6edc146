using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Tether.Sessions.Internal;

/// <summary>
/// The work of the session manager, off its mailbox: every request is taken as a deferred reply and finished here on the
/// thread pool (store access) and the hashing threads (BCrypt), so the mailbox only dispatches and verification never
/// queues behind a login.
/// </summary>
internal sealed partial class SessionService : IDisposable
{
    private const string LoginRefused = "The user name or password is wrong, or the user is disabled.";

    private readonly Node _node;
    private readonly SessionManagerOptions _options;
    private readonly UserStore _store;
    private readonly HashWorker _hasher;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _publishing = new(1, 1);

    // Tokens this manager issued or checked, with their claims: verifying them again needs no ECDSA (which costs more
    // than the store lookup). Bounded: cleared when full, then each token is checked once more.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TokenClaims> _known = new(StringComparer.Ordinal);
    private int _knownCount;
    private const int MaxKnown = 100_000;
    private string _lastPublished = "";

    // Sessions this manager knows are live (it issued them, or read them from the store) and sessions it knows are
    // revoked (its own revocations, every poll of the store, other managers' events on the revocation topic). A known
    // token of a live session is verified from memory, on the mailbox, with no store read and no hop to the pool: one
    // verification costs one round trip. Bounded like _known.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _live = new(StringComparer.Ordinal); // session id -> user id
    private int _liveCount;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _revokedIds = new(StringComparer.Ordinal); // session id -> expiry (UTC ticks)

    public SessionService(Node node, SessionManagerOptions options, UserStore store)
    {
        _node = node;
        _options = options;
        _store = store;
        _time = node.Options.TimeProvider;
        _logger = node.Options.LoggerFactory.CreateLogger("Tether.Sessions.SessionManager");
        _hasher = new HashWorker(options.HashingThreads, options.MaxWaitingLogins, options.WorkFactor);
    }

    public SessionManagerOptions Options => _options;

    public HashWorker Hasher => _hasher;

    /// <summary>Runs <paramref name="work"/> on the thread pool and answers <paramref name="reply"/> with its outcome.</summary>
    public void Start<TRequest, TResponse>(ReplyToken<TResponse> reply, TRequest request, Func<SessionService, TRequest, Task<TResponse>> work, string operation)
        => _ = Task.Run(async () =>
        {
            try
            {
                reply.TryReply(await work(this, request).ConfigureAwait(false));
            }
            catch (TetherException ex)
            {
                reply.TryFail(ex.Code, ex.Message);
            }
#pragma warning disable CA1031 // an unexpected failure is an error answer; the manager keeps serving
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogOperationFailed(_logger, operation, ex.GetType().Name, ex.Message);
                reply.TryFail(ErrorCodes.HandlerFailed, $"The session manager failed to {operation}: {ex.GetType().Name}.");
            }
        });

    public async Task<LoginResult> LoginAsync(Login login)
    {
        using Activity? activity = SessionTelemetry.Source.StartActivity("sessions.login");
        activity?.SetTag("tether.sessions.user", login.UserName);
        if (string.IsNullOrEmpty(login.UserName) || string.IsNullOrEmpty(login.Password))
        {
            Fail(activity, login.UserName ?? "", "empty");
            throw new TetherException(ErrorCodes.Unauthenticated, "The user name or password is empty.");
        }

        (UserInfo User, string PasswordHash, int FailedLogins)? credentials = await _store.GetCredentialsAsync(login.UserName, CancellationToken.None).ConfigureAwait(false);
        if (credentials is { FailedLogins: > 0 } known && _options.DelayAfter(known.FailedLogins) is { } delay && delay > TimeSpan.Zero)
        {
            // The delay is a timer, not a sleeping thread: nobody else's login or verification waits for it.
            LogLoginDelayed(_logger, login.UserName, known.FailedLogins, (long)delay.TotalMilliseconds);
            activity?.SetTag("tether.sessions.delay_ms", (long)delay.TotalMilliseconds);
            await Task.Delay(delay, _time).ConfigureAwait(false);
        }

        // BCrypt reads 72 bytes: a longer password would match the stored one by its prefix. It is checked all the same
        // (the same cost), then refused.
        bool tooLong = System.Text.Encoding.UTF8.GetByteCount(login.Password) > Passwords.MaxPasswordBytes;
        bool matches = await _hasher.VerifyAsync(login.Password, credentials?.PasswordHash).ConfigureAwait(false) && !tooLong;
        if (credentials is not { } found)
        {
            Fail(activity, login.UserName, "unknown-user");
            throw new TetherException(ErrorCodes.Unauthenticated, LoginRefused);
        }

        if (!matches || found.User.Disabled)
        {
            if (!matches)
            {
                await _store.RecordLoginOutcomeAsync(found.User.UserId, success: false, CancellationToken.None).ConfigureAwait(false);
            }

            Fail(activity, login.UserName, matches ? "disabled" : "wrong-password");
            throw new TetherException(ErrorCodes.Unauthenticated, LoginRefused);
        }

        if (found.FailedLogins > 0)
        {
            await _store.RecordLoginOutcomeAsync(found.User.UserId, success: true, CancellationToken.None).ConfigureAwait(false);
        }

        DateTimeOffset now = _time.GetUtcNow();
        string sessionId = Guid.CreateVersion7().ToString("N");
        DateTimeOffset expires = now + _options.SessionLifetime;
        await _store.CreateSessionAsync(sessionId, found.User.UserId, now, expires, CancellationToken.None).ConfigureAwait(false);
        LoginResult result = Issue(sessionId, found.User, now, expires);
        SessionTelemetry.Logins.Add(1);
        activity?.SetTag("tether.sessions.session_id", sessionId);
        LogLoginSucceeded(_logger, login.UserName, sessionId);
        return result;
    }

    /// <summary>
    /// Answers a verification: from memory, at once, for a token this manager knows of a session it knows is live;
    /// otherwise on the thread pool with a store read (<see cref="VerifyAsync"/>).
    /// </summary>
    public void Verify(ReplyToken<SessionIdentity> reply, VerifySession request)
    {
        if (KnownLive(request.Token) is { } claims)
        {
            if (request.Right is { } right && Array.IndexOf(claims.Rights, right) < 0)
            {
                reply.TryFail(ErrorCodes.Forbidden, $"The session of {claims.UserName} does not hold the right \"{right}\".");
            }
            else
            {
                reply.TryReply(claims.ToIdentity());
            }

            return;
        }

        Start(reply, request, static (s, r) => s.VerifyAsync(r), "verify a session");
    }

    /// <summary>
    /// Answers a confirmation (<see cref="ConfirmSession"/>, the verifier's question): as <see cref="Verify"/>, but the
    /// answer is only <see langword="true"/> (the asker read the token's claims itself), so nothing is built per answer.
    /// </summary>
    public void Confirm(ReplyToken<bool> reply, ConfirmSession request)
    {
        if (KnownLive(request.Token) is not null)
        {
            reply.TryReply(true);
            return;
        }

        Start(reply, request, static async (s, r) =>
        {
            _ = await s.CheckLiveAsync(r.Token).ConfigureAwait(false);
            return true;
        }, "confirm a session");
    }

    /// <summary>The claims of <paramref name="token"/> when this manager knows the token, and knows its session is live and unexpired; else null.</summary>
    private TokenClaims? KnownLive(string? token)
        => token is not null
            && _known.TryGetValue(token, out TokenClaims? claims)
            && _live.TryGetValue(claims.SessionId, out string? userId)
            && string.Equals(userId, claims.UserId, StringComparison.Ordinal)
            && !_revokedIds.ContainsKey(claims.SessionId)
            && claims.ExpiresAt > _time.GetUtcNow()
            ? claims
            : null;

    /// <summary>Revocations heard on the revocation topic (another manager's, or this one's own): they are not live any more.</summary>
    public void Apply(SessionsRevoked revoked)
    {
        foreach (RevokedSession session in revoked.Sessions ?? [])
        {
            if (session?.SessionId is { } id)
            {
                MarkRevoked(id, session.ExpiresAt);
            }
        }
    }

    public async Task<SessionIdentity> VerifyAsync(VerifySession request)
    {
        (TokenClaims claims, _) = await CheckLiveAsync(request.Token).ConfigureAwait(false);
        if (request.Right is { } right && Array.IndexOf(claims.Rights, right) < 0)
        {
            throw new TetherException(ErrorCodes.Forbidden, $"The session of {claims.UserName} does not hold the right \"{right}\".");
        }

        return claims.ToIdentity();
    }

    public async Task<LoginResult> RenewAsync(RenewSession request)
    {
        (TokenClaims claims, StoredSession stored) = await CheckLiveAsync(request.Token).ConfigureAwait(false);
        UserInfo user = await _store.FindUserAsync(stored.UserName, CancellationToken.None).ConfigureAwait(false)
            ?? throw new TetherException(ErrorCodes.SessionRevoked, $"The user of session {claims.SessionId} no longer exists.");
        DateTimeOffset now = _time.GetUtcNow();
        DateTimeOffset expires = now + _options.SessionLifetime;
        await _store.ExtendSessionAsync(claims.SessionId, expires, CancellationToken.None).ConfigureAwait(false);
        LogRenewed(_logger, user.UserName, claims.SessionId);
        return Issue(claims.SessionId, user, now, expires);
    }

    public async Task<bool> LogoutAsync(Logout request)
    {
        TokenProblem problem = TokenCodec.TryRead(request.Token, _options.Keys, out TokenClaims? claims);
        if (problem != TokenProblem.None)
        {
            throw new TetherException(ErrorCodes.Unauthenticated, Describe(problem));
        }

        bool revoked = await _store.RevokeSessionAsync(claims!.SessionId, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        if (revoked)
        {
            MarkRevoked(claims.SessionId, claims.ExpiresAt);
            SessionTelemetry.Revocations.Add(1);
            LogLoggedOut(_logger, claims.UserName, claims.SessionId);
            await PublishRevocationsAsync(force: true).ConfigureAwait(false);
        }

        return revoked;
    }

    /// <summary>Publishes the store's revoked, unexpired sessions when they changed since the last publication (or always, when forced).</summary>
    public async Task PublishRevocationsAsync(bool force)
    {
        await _publishing.WaitAsync().ConfigureAwait(false);
        try
        {
            DateTimeOffset now = _time.GetUtcNow();
            IReadOnlyList<RevokedSession> revoked = await _store.ListRevokedAsync(now, CancellationToken.None).ConfigureAwait(false);
            foreach (RevokedSession session in revoked)
            {
                MarkRevoked(session.SessionId, session.ExpiresAt);
            }

            foreach (KeyValuePair<string, long> old in _revokedIds)
            {
                if (old.Value <= now.UtcTicks)
                {
                    _revokedIds.TryRemove(old.Key, out _);
                }
            }

            string fingerprint = revoked.Count == 0 ? "" : $"{revoked.Count}:{revoked[0].SessionId}:{revoked[^1].SessionId}:{string.GetHashCode(string.Concat(revoked.Select(r => r.SessionId)), StringComparison.Ordinal)}";
            if (!force && fingerprint == _lastPublished)
            {
                return;
            }

            _lastPublished = fingerprint;
            _node.Publish(_options.RevocationTopic, new SessionsRevoked(revoked));
        }
        finally
        {
            _publishing.Release();
        }
    }

    /// <summary>The timer's poll for revocations made elsewhere (the CLI, another manager).</summary>
    public void StartPoll() => _ = Task.Run(async () =>
    {
        try
        {
            await PublishRevocationsAsync(force: false).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // a failed poll is logged; the next one tries again
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogOperationFailed(_logger, "poll for revocations", ex.GetType().Name, ex.Message);
        }
    });

    public void Dispose()
    {
        _hasher.Dispose();
        _publishing.Dispose();
    }

    internal static string Describe(TokenProblem problem) => problem switch
    {
        TokenProblem.Missing => "The message carries no session token.",
        TokenProblem.UnknownKey => "The session token was signed by a key this node does not trust.",
        TokenProblem.BadSignature => "The session token's signature does not hold.",
        _ => "The session token is malformed.",
    };

    /// <summary>A token that is ours, unexpired, and a live session in the store; otherwise the matching error.</summary>
    private async Task<(TokenClaims Claims, StoredSession Stored)> CheckLiveAsync(string token)
    {
        if (token is null || !_known.TryGetValue(token, out TokenClaims? claims))
        {
            TokenProblem problem = TokenCodec.TryRead(token, _options.Keys, out claims);
            if (problem != TokenProblem.None)
            {
                throw new TetherException(ErrorCodes.Unauthenticated, Describe(problem));
            }

            Remember(token!, claims!);
        }

        if (claims!.ExpiresAt <= _time.GetUtcNow())
        {
            throw new TetherException(ErrorCodes.SessionExpired, $"The session of {claims.UserName} expired at {claims.ExpiresAt:O}.");
        }

        StoredSession? stored = await _store.GetSessionAsync(claims.SessionId, CancellationToken.None).ConfigureAwait(false);
        if (stored is null || !string.Equals(stored.UserId, claims.UserId, StringComparison.Ordinal))
        {
            throw new TetherException(ErrorCodes.Unauthenticated, $"Session {claims.SessionId} is not known to the session manager.");
        }

        if (stored.RevokedAt is not null || stored.UserDisabled)
        {
            throw new TetherException(ErrorCodes.SessionRevoked, $"Session {claims.SessionId} of {claims.UserName} was revoked{(stored.UserDisabled ? " (the user is disabled)" : "")}.");
        }

        MarkLive(claims.SessionId, stored.UserId);
        return (claims, stored);
    }

    private LoginResult Issue(string sessionId, UserInfo user, DateTimeOffset now, DateTimeOffset expires)
    {
        string token = TokenCodec.Write(_options.Keys.Signing!, sessionId, user.UserId, user.UserName, user.Rights, now, expires);
        Remember(token, new TokenClaims(_options.Keys.Signing!.KeyId, sessionId, user.UserId, user.UserName, [.. user.Rights], now, expires));
        MarkLive(sessionId, user.UserId);
        return new LoginResult(token, new SessionIdentity(sessionId, user.UserId, user.UserName, user.Rights, expires));
    }

    private void Remember(string token, TokenClaims claims)
    {
        if (Interlocked.Increment(ref _knownCount) > MaxKnown)
        {
            _known.Clear();
            Interlocked.Exchange(ref _knownCount, 1);
        }

        _known[token] = claims;
    }

    private void MarkLive(string sessionId, string userId)
    {
        if (Interlocked.Increment(ref _liveCount) > MaxKnown)
        {
            _live.Clear();
            Interlocked.Exchange(ref _liveCount, 1);
        }

        _live[sessionId] = userId;
    }

    private void MarkRevoked(string sessionId, DateTimeOffset expiresAt)
    {
        _revokedIds[sessionId] = expiresAt.UtcTicks;
        _live.TryRemove(sessionId, out _);
    }

    private void Fail(Activity? activity, string userName, string reason)
    {
        SessionTelemetry.LoginFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));
        activity?.SetStatus(ActivityStatusCode.Error, "login refused");
        activity?.SetTag("tether.sessions.failure", reason);
        LogLoginFailed(_logger, userName, reason);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "User {UserName} logged in (session {SessionId})")]
    private static partial void LogLoginSucceeded(ILogger logger, string userName, string sessionId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Login of user {UserName} refused ({Reason})")]
    private static partial void LogLoginFailed(ILogger logger, string userName, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Login of user {UserName} delayed {DelayMs} ms after {Failures} failed logins in a row")]
    private static partial void LogLoginDelayed(ILogger logger, string userName, int failures, long delayMs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "User {UserName} logged out (session {SessionId} revoked)")]
    private static partial void LogLoggedOut(ILogger logger, string userName, string sessionId);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "User {UserName} disabled; {Count} live sessions revoked")]
    private static partial void LogUserDisabled(ILogger logger, string userName, int count);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "User {UserName} {Change}")]
    private static partial void LogUserChanged(ILogger logger, string userName, string change);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "Session {SessionId} of user {UserName} renewed")]
    private static partial void LogRenewed(ILogger logger, string userName, string sessionId);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "The session manager failed to {Operation}: {ExceptionType}: {ExceptionMessage}")]
    private static partial void LogOperationFailed(ILogger logger, string operation, string exceptionType, string exceptionMessage);
}
