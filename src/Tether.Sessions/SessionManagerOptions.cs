namespace Tether.Sessions;

/// <summary>The settings of a session manager (<see cref="SessionManager.StartAsync"/>). Checked when it starts.</summary>
public sealed record SessionManagerOptions
{
    /// <summary>The key ring: it must hold a signing key (<see cref="SessionKeys.FromPrivateKeyFile"/> or <see cref="SessionKeys.FromPrivateKeyPem"/>).</summary>
    public required SessionKeys Keys { get; init; }

    /// <summary>The service name the manager registers under; every verifier must ask the same. Default "sessions".</summary>
    public string ServiceName { get; init; } = SessionManager.DefaultServiceName;

    /// <summary>The SQLite user store file, created with its schema when missing. Used when <see cref="PostgresConnectionString"/> is null.</summary>
    public string SqlitePath { get; init; } = "tether-users.db";

    /// <summary>A PostgreSQL connection string: when set, the user store is that database instead of SQLite.</summary>
    public string? PostgresConnectionString { get; init; }

    /// <summary>How long a token is valid after a login or renewal. Default 8 hours.</summary>
    public TimeSpan SessionLifetime { get; init; } = TimeSpan.FromHours(8);

    /// <summary>The BCrypt work factor of new password hashes (4 to 20). Default 12; tests may lower it.</summary>
    public int WorkFactor { get; init; } = 12;

    /// <summary>
    /// How many dedicated threads hash and check passwords (never the thread pool, never the manager's mailbox, so a storm
    /// of logins does not delay verification). Default: half the processors, at least one.
    /// </summary>
    public int HashingThreads { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>How many logins may wait for a hashing thread; beyond, a login fails at once with <see cref="SessionErrorCodes.Busy"/>. Default 1,000.</summary>
    public int MaxWaitingLogins { get; init; } = 1000;

    /// <summary>How many failed logins in a row a user may have before its next attempts are slowed. Default 5.</summary>
    public int FailuresBeforeDelay { get; init; } = 5;

    /// <summary>The delay of the first slowed attempt; it doubles with each further failure. Default 100 ms.</summary>
    public TimeSpan FailureDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay of a slowed attempt. Default 30 s.</summary>
    public TimeSpan MaxFailureDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The topic revocations are published on; every verifier subscribes to the same. Default "tether.sessions.revoked".</summary>
    public string RevocationTopic { get; init; } = SessionManager.DefaultRevocationTopic;

    /// <summary>
    /// How often the manager looks in the store for revocations made elsewhere (<c>tether users disable</c>, another
    /// manager's database writes) and publishes them. Default 2 s; <see cref="Timeout.InfiniteTimeSpan"/> turns it off.
    /// </summary>
    public TimeSpan RevocationPollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The delay before the attempt that follows <paramref name="failures"/> failed logins in a row: zero below <see cref="FailuresBeforeDelay"/>, then <see cref="FailureDelay"/>·2^(failures − <see cref="FailuresBeforeDelay"/>), at most <see cref="MaxFailureDelay"/>.</summary>
    public TimeSpan DelayAfter(int failures)
    {
        if (failures < FailuresBeforeDelay)
        {
            return TimeSpan.Zero;
        }

        int doublings = Math.Min(failures - FailuresBeforeDelay, 30);
        double ms = FailureDelay.TotalMilliseconds * Math.Pow(2, doublings);
        return ms >= MaxFailureDelay.TotalMilliseconds ? MaxFailureDelay : TimeSpan.FromMilliseconds(ms);
    }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Keys, "SessionManagerOptions.Keys");
        if (Keys.Signing is null)
        {
            throw new ArgumentException("SessionManagerOptions.Keys has no signing key: the session manager signs tokens, so it needs the private key (SessionKeys.FromPrivateKeyFile).");
        }

        Check(!string.IsNullOrWhiteSpace(ServiceName), "ServiceName must not be empty");
        Check(!string.IsNullOrWhiteSpace(RevocationTopic), "RevocationTopic must not be empty");
        Check(PostgresConnectionString is not null || !string.IsNullOrWhiteSpace(SqlitePath), "SqlitePath must not be empty when no PostgresConnectionString is given");
        Check(SessionLifetime > TimeSpan.Zero, $"SessionLifetime must be positive; it is {SessionLifetime}");
        Check(WorkFactor is >= 4 and <= 20, $"WorkFactor must be from 4 to 20; it is {WorkFactor}");
        Check(HashingThreads >= 1, $"HashingThreads must be at least 1; it is {HashingThreads}");
        Check(MaxWaitingLogins >= 1, $"MaxWaitingLogins must be at least 1; it is {MaxWaitingLogins}");
        Check(FailuresBeforeDelay >= 1, $"FailuresBeforeDelay must be at least 1; it is {FailuresBeforeDelay}");
        Check(FailureDelay >= TimeSpan.Zero && MaxFailureDelay >= FailureDelay, "FailureDelay must be at least zero and MaxFailureDelay at least FailureDelay");
        Check(RevocationPollInterval > TimeSpan.Zero || RevocationPollInterval == Timeout.InfiniteTimeSpan, $"RevocationPollInterval must be positive or infinite; it is {RevocationPollInterval}");
    }

    private static void Check(bool ok, string what)
    {
        if (!ok)
        {
            throw new ArgumentException($"SessionManagerOptions.{what}.");
        }
    }
}
