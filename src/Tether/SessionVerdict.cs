namespace Tether;

/// <summary>
/// The outcome of verifying a session token for a right: allowed (with the verified <see cref="Identity"/>) or refused
/// with an error code (<see cref="ErrorCodes.Unauthenticated"/>, <see cref="ErrorCodes.Forbidden"/>,
/// <see cref="ErrorCodes.SessionExpired"/>, <see cref="ErrorCodes.SessionRevoked"/>) and a text that never contains the token.
/// </summary>
public readonly struct SessionVerdict
{
    private SessionVerdict(SessionIdentity? identity, string? errorCode, string? errorText)
    {
        Identity = identity;
        ErrorCode = errorCode;
        ErrorText = errorText;
    }

    /// <summary>The verified identity when allowed; otherwise null.</summary>
    public SessionIdentity? Identity { get; }

    /// <summary>The error code when refused; otherwise null.</summary>
    public string? ErrorCode { get; }

    /// <summary>Why it was refused, for the requester (never the token itself); otherwise null.</summary>
    public string? ErrorText { get; }

    /// <summary>True when the session is valid and carries the right.</summary>
    public bool IsAllowed => Identity is not null && ErrorCode is null;

    /// <summary>An allowed verdict for <paramref name="identity"/>.</summary>
    public static SessionVerdict Allow(SessionIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return new SessionVerdict(identity, null, null);
    }

    /// <summary>A refusal with <paramref name="errorCode"/> and <paramref name="errorText"/>.</summary>
    public static SessionVerdict Refuse(string errorCode, string errorText)
    {
        ArgumentException.ThrowIfNullOrEmpty(errorCode);
        ArgumentNullException.ThrowIfNull(errorText);
        return new SessionVerdict(null, errorCode, errorText);
    }

    /// <summary>The refusal as the exception a requester receives.</summary>
    public TetherException ToException()
        => new(ErrorCode ?? ErrorCodes.Unauthenticated, ErrorText ?? "The session was not verified.");
}
