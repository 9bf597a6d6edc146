using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tether.Sessions.Internal;

namespace Tether.Sessions;

/// <summary>
/// The node-side verifier of session tokens: set it as <see cref="NodeOptions.Sessions"/> and <see cref="Attach"/> it to
/// the node. It checks signatures locally with the public key ring and caches verified sessions (token → identity, until
/// expiry or revocation; bounded), so a known token costs a dictionary lookup and allocates nothing.
/// </summary>
/// <remarks>
/// <para>Refused locally and at once: a missing, malformed or truncated token, or one naming a key the ring does not hold
/// (<see cref="ErrorCodes.Unauthenticated"/>); an expired one (<see cref="ErrorCodes.SessionExpired"/>); a revoked one
/// (<see cref="ErrorCodes.SessionRevoked"/>); one without the right (<see cref="ErrorCodes.Forbidden"/>). A well-formed
/// token not seen before makes <see cref="TryVerifyLocal"/> return false; <see cref="VerifyAsync"/> then asks the session
/// manager once (<see cref="ConfirmSession"/>: the token out, <see langword="true"/> back, the identity read here from the
/// token; concurrent verifications of one token share the request) and caches the answer. The manager checks the
/// signature, so a verifier attached to a node does not check it first (a first verification costs one round trip, not a
/// signature check plus a round trip) and a tampered token is refused by the manager's answer
/// (<see cref="ErrorCodes.Unauthenticated"/>); with 64 questions in flight, or when not attached, the verifier checks the
/// signature itself and refuses a tampered token at once.</para>
/// <para>Revocations arrive on the revocation topic, to which <see cref="Attach"/> subscribes a small target of the
/// verifier's own: revoked sessions leave the cache and are refused from then on.</para>
/// <para>Never throws for any token: a bad token is a refusal.</para>
/// </remarks>
/// <example>
/// <code>
/// var verifier = new SessionVerifier(SessionKeys.FromPublicKeyPem(pem));
/// await using Node node = Node.Create(new NodeOptions { Sessions = verifier });
/// verifier.Attach(node);
/// </code>
/// </example>
public sealed partial class SessionVerifier : ISessionVerifier
{
    private static readonly SessionVerdict s_missing = SessionVerdict.Refuse(ErrorCodes.Unauthenticated, SessionService.Describe(TokenProblem.Missing));
    private static readonly SessionVerdict s_malformed = SessionVerdict.Refuse(ErrorCodes.Unauthenticated, SessionService.Describe(TokenProblem.Malformed));
    private static readonly SessionVerdict s_unknownKey = SessionVerdict.Refuse(ErrorCodes.Unauthenticated, SessionService.Describe(TokenProblem.UnknownKey));
    private static readonly SessionVerdict s_badSignature = SessionVerdict.Refuse(ErrorCodes.Unauthenticated, SessionService.Describe(TokenProblem.BadSignature));
    private static readonly SessionVerdict s_expired = SessionVerdict.Refuse(ErrorCodes.SessionExpired, "The session has expired; log in again or renew it before it expires.");
    private static readonly SessionVerdict s_revoked = SessionVerdict.Refuse(ErrorCodes.SessionRevoked, "The session was revoked (logged out, or its user disabled).");
    private static readonly SessionVerdict s_notAttached = SessionVerdict.Refuse(ErrorCodes.Unauthenticated, "The session verifier is not attached to a node, so it cannot ask the session manager (call SessionVerifier.Attach).");

    private readonly SessionKeys _keys;
    private readonly SessionVerifierOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, CachedSession> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _revoked = new(StringComparer.Ordinal); // session id -> expiry (UTC ticks)
    private readonly ConcurrentDictionary<string, Task<Outcome>> _inflight = new(StringComparer.Ordinal);

    // Questions to the manager in flight. A token this node has not verified goes to the manager without an ECDSA check
    // here: the manager checks the signature itself (or knows the token as one it issued), so its answer decides and a
    // first verification costs one round trip, not a signature check (about as long) plus a round trip. Beyond this many
    // questions in flight the signature is checked here first, so a flood of forged tokens is refused locally and does
    // not reach the manager. A verifier not attached to a node always checks locally.
    private int _asking;
    private const int MaxAsksBeforeLocalCheck = 64;
    private int _cached;
    private Node? _node;

    // The token TryVerifyLocal just found to be the manager's to decide, on this thread. The mailbox calls VerifyAsync next,
    // on the same thread, for the same token: it then asks at once instead of reading the token a second time (the
    // manager checks everything again anyway, so nothing that changed in between is missed).
    [ThreadStatic]
    private static (SessionVerifier? By, string? Token, string? Right, TokenClaims? Claims) t_askFirst;
    private ILogger _logger = NullLogger.Instance;

    /// <summary>A verifier that accepts tokens signed by the keys of <paramref name="keys"/> (public keys suffice).</summary>
    /// <exception cref="ArgumentException">The options are not valid.</exception>
    public SessionVerifier(SessionKeys keys, SessionVerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
        _options = options ?? SessionVerifierOptions.Default;
        _options.Validate();
        _time = _options.TimeProvider;
    }

    /// <summary>How many verified tokens are cached now.</summary>
    public int CachedCount => Volatile.Read(ref _cached);

    /// <summary>
    /// Connects the verifier to <paramref name="node"/>: verifications ask the session manager through it, and a small
    /// target subscribes to the revocation topic. Call it once, right after <see cref="Node.Create(NodeOptions?)"/>.
    /// </summary>
    /// <returns>This verifier.</returns>
    /// <exception cref="InvalidOperationException">It is attached already.</exception>
    public SessionVerifier Attach(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (Interlocked.CompareExchange(ref _node, node, null) is not null)
        {
            throw new InvalidOperationException("This session verifier is attached to a node already; create one verifier per node.");
        }

        _logger = node.Options.LoggerFactory.CreateLogger("Tether.Sessions.SessionVerifier");
        node.Spawn(() => new RevocationListener(this, _options.RevocationTopic));
        return this;
    }

    /// <inheritdoc />
    public bool TryVerifyLocal(string token, string right, out SessionVerdict verdict)
    {
        if (TryCached(token, right, out verdict))
        {
            return true;
        }

        if (AskingFirst(token, right, out TokenClaims? unverified))
        {
            t_askFirst = (this, token, right, unverified);
            verdict = default;
            return false; // the manager's answer decides (it checks the signature itself): no ECDSA here
        }

        return CheckUncached(token, right, out verdict, out _);
    }

    /// <summary>
    /// True when the manager is to be asked without checking the signature here first: the verifier is attached, fewer
    /// than <see cref="MaxAsksBeforeLocalCheck"/> questions are in flight, and the token's form, key and claims hold.
    /// </summary>
    private bool AskingFirst(string token, string right, out TokenClaims? unverified)
    {
        unverified = null;
        return _node is not null && Volatile.Read(ref _asking) < MaxAsksBeforeLocalCheck
            && TokenCodec.TryRead(token, _keys, out unverified, checkSignature: false) == TokenProblem.None
            && !_revoked.ContainsKey(unverified!.SessionId) && _time.GetUtcNow() < unverified.ExpiresAt && HasRight(unverified.Rights, right);
    }

    /// <summary>The answer from the cache (or for a missing token); false when the token is not cached.</summary>
    private bool TryCached(string token, string right, out SessionVerdict verdict)
    {
        if (string.IsNullOrEmpty(token))
        {
            verdict = Refused(s_missing);
            return true;
        }

        if (_cache.TryGetValue(token, out CachedSession? entry))
        {
            if (entry.Revoked)
            {
                verdict = Refused(s_revoked);
                return true;
            }

            if (_time.GetUtcNow().UtcTicks >= entry.ExpiresTicks)
            {
                Remove(token);
                verdict = Refused(s_expired);
                return true;
            }

            if (!HasRight(entry.Rights, right))
            {
                verdict = Refused(Forbidden(entry.Identity.UserName, right));
                return true;
            }

            SessionTelemetry.VerifiedCached.Add(1);
            verdict = SessionVerdict.Allow(entry.Identity);
            return true;
        }

        verdict = default;
        return false;
    }

    /// <inheritdoc />
    public ValueTask<SessionVerdict> VerifyAsync(string token, string right, CancellationToken cancellationToken)
    {
        try
        {
            (SessionVerifier? by, string? checkedToken, string? checkedRight, TokenClaims? checkedClaims) = t_askFirst;
            if (by is not null)
            {
                t_askFirst = default;
                if (ReferenceEquals(by, this) && ReferenceEquals(checkedToken, token) && string.Equals(checkedRight, right, StringComparison.Ordinal))
                {
                    return new ValueTask<SessionVerdict>(VerifyRemoteAsync(token, Ask(token, checkedClaims!), right, cancellationToken)); // just read by TryVerifyLocal
                }
            }

            SessionVerdict verdict;
            if (TryCached(token, right, out verdict))
            {
                return new ValueTask<SessionVerdict>(verdict);
            }

            if (AskingFirst(token, right, out TokenClaims? unverified))
            {
                return new ValueTask<SessionVerdict>(VerifyRemoteAsync(token, Ask(token, unverified!), right, cancellationToken));
            }

            if (CheckUncached(token, right, out verdict, out TokenClaims? claims))
            {
                return new ValueTask<SessionVerdict>(verdict);
            }

            if (_node is null)
            {
                return new ValueTask<SessionVerdict>(Refused(s_notAttached));
            }

            return new ValueTask<SessionVerdict>(VerifyRemoteAsync(token, Ask(token, claims!), right, cancellationToken));
        }
#pragma warning disable CA1031 // a verifier never throws: whatever fails is a refusal
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new ValueTask<SessionVerdict>(Refused(SessionVerdict.Refuse(ErrorCodes.Unauthenticated, $"The session could not be verified ({ex.GetType().Name}).")));
        }
    }

    /// <summary>Applies a revocation event: the sessions are remembered as revoked until they expire, and leave the cache.</summary>
    internal void Apply(SessionsRevoked revoked)
    {
        long now = _time.GetUtcNow().UtcTicks;
        int added = 0;
        foreach (RevokedSession session in revoked.Sessions ?? [])
        {
            if (session?.SessionId is { } id && session.ExpiresAt.UtcTicks > now && _revoked.TryAdd(id, session.ExpiresAt.UtcTicks))
            {
                added++;
            }
        }

        foreach (KeyValuePair<string, long> old in _revoked)
        {
            if (old.Value <= now)
            {
                _revoked.TryRemove(old.Key, out _);
            }
        }

        if (added == 0)
        {
            return;
        }

        foreach (KeyValuePair<string, CachedSession> cached in _cache)
        {
            if (_revoked.ContainsKey(cached.Value.Identity.SessionId))
            {
                cached.Value.Revoked = true;
                Remove(cached.Key);
            }
        }

        LogRevocationsApplied(_logger, added);
    }

    private bool CheckUncached(string token, string right, out SessionVerdict verdict, out TokenClaims? claims)
    {
        TokenProblem problem = TokenCodec.TryRead(token, _keys, out claims);
        switch (problem)
        {
            case TokenProblem.None:
                break;
            case TokenProblem.Missing:
                verdict = Refused(s_missing);
                return true;
            case TokenProblem.UnknownKey:
                verdict = Refused(s_unknownKey);
                return true;
            case TokenProblem.BadSignature:
                verdict = Refused(s_badSignature);
                return true;
            default:
                verdict = Refused(s_malformed);
                return true;
        }

        return CheckClaims(claims!, right, out verdict);
    }

    /// <summary>The refusals a signed token's claims tell by themselves (revoked here, expired, right missing); false when none applies.</summary>
    private bool CheckClaims(TokenClaims claims, string right, out SessionVerdict verdict)
    {
        if (_revoked.ContainsKey(claims.SessionId))
        {
            verdict = Refused(s_revoked);
            return true;
        }

        if (_time.GetUtcNow() >= claims.ExpiresAt)
        {
            verdict = Refused(s_expired);
            return true;
        }

        if (!HasRight(claims.Rights, right))
        {
            verdict = Refused(Forbidden(claims.UserName, right));
            return true;
        }

        verdict = default;
        return false;
    }

    private void AddToCache(string token, CachedSession entry)
    {
        if (Volatile.Read(ref _cached) >= _options.CacheCapacity)
        {
            Trim();
        }

        if (_cache.TryAdd(token, entry))
        {
            Interlocked.Increment(ref _cached);
        }

        // A revocation may have arrived while the manager was asked: it must win.
        if (_revoked.ContainsKey(entry.Identity.SessionId))
        {
            entry.Revoked = true;
            Remove(token);
        }
    }

    private void Trim()
    {
        long now = _time.GetUtcNow().UtcTicks;
        foreach (KeyValuePair<string, CachedSession> cached in _cache)
        {
            if (cached.Value.ExpiresTicks <= now)
            {
                Remove(cached.Key);
            }
        }

        if (Volatile.Read(ref _cached) >= _options.CacheCapacity)
        {
            foreach (string key in _cache.Keys)
            {
                Remove(key);
            }
        }
    }

    private void Remove(string token)
    {
        if (_cache.TryRemove(token, out _))
        {
            Interlocked.Decrement(ref _cached);
        }
    }

    private static bool HasRight(string[] rights, string right)
    {
        if (string.IsNullOrEmpty(right))
        {
            return true;
        }

        for (int i = 0; i < rights.Length; i++)
        {
            if (string.Equals(rights[i], right, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static SessionVerdict Forbidden(string userName, string right)
        => SessionVerdict.Refuse(ErrorCodes.Forbidden, $"The session of {userName} does not hold the right \"{right}\".");

    private static SessionVerdict Refused(SessionVerdict verdict)
    {
        SessionTelemetry.CountRefused(verdict.ErrorCode!);
        return verdict;
    }

    [LoggerMessage(EventId = 21, Level = LogLevel.Debug, Message = "{Count} newly revoked sessions applied")]
    private static partial void LogRevocationsApplied(ILogger logger, int count);

    private sealed class CachedSession(SessionIdentity identity, string[] rights, long expiresTicks)
    {
        public SessionIdentity Identity { get; } = identity;

        public string[] Rights { get; } = rights;

        public long ExpiresTicks { get; } = expiresTicks;

        public volatile bool Revoked;
    }
}
