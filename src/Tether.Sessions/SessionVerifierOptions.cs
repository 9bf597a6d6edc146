namespace Tether.Sessions;

/// <summary>The settings of a <see cref="SessionVerifier"/>.</summary>
public sealed record SessionVerifierOptions
{
    /// <summary>The defaults.</summary>
    public static SessionVerifierOptions Default { get; } = new();

    /// <summary>The session manager's service name. Default "sessions".</summary>
    public string ServiceName { get; init; } = SessionManager.DefaultServiceName;

    /// <summary>The revocation topic (as the manager's). Default "tether.sessions.revoked".</summary>
    public string RevocationTopic { get; init; } = SessionManager.DefaultRevocationTopic;

    /// <summary>
    /// How many verified tokens are cached at most. When full, expired entries are dropped, and if that is not enough the
    /// whole cache is cleared (its tokens are verified again on their next use). Default 100,000.
    /// </summary>
    public int CacheCapacity { get; init; } = 100_000;

    /// <summary>How long a verification waits for the session manager before refusing with <see cref="ErrorCodes.Unauthenticated"/>. Default 5 s.</summary>
    public TimeSpan VerifyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock for expiries. Default the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ServiceName) || string.IsNullOrWhiteSpace(RevocationTopic))
        {
            throw new ArgumentException("SessionVerifierOptions.ServiceName and RevocationTopic must not be empty.");
        }

        if (CacheCapacity < 1)
        {
            throw new ArgumentException($"SessionVerifierOptions.CacheCapacity must be at least 1; it is {CacheCapacity}.");
        }

        if (VerifyTimeout <= TimeSpan.Zero || VerifyTimeout == Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"SessionVerifierOptions.VerifyTimeout must be finite and positive; it is {VerifyTimeout}.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, "SessionVerifierOptions.TimeProvider");
    }
}
