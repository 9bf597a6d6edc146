namespace Tether.Sessions;

/// <summary>
/// The error codes of user administration, besides the runtime's (<see cref="ErrorCodes.BadRequest"/> for bad names,
/// rights or passwords; <see cref="ErrorCodes.Unauthenticated"/>, <see cref="ErrorCodes.Forbidden"/>,
/// <see cref="ErrorCodes.SessionExpired"/>, <see cref="ErrorCodes.SessionRevoked"/> for sessions).
/// </summary>
public static class SessionErrorCodes
{
    /// <summary>No user has the name.</summary>
    public const string NoSuchUser = "no-such-user";

    /// <summary>A user with the name exists already.</summary>
    public const string UserExists = "user-exists";

    /// <summary>The session manager has too many logins waiting for the password hasher; try again later.</summary>
    public const string Busy = "sessions-busy";
}
