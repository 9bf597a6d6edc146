namespace Tether.Sessions.Internal;

/// <summary>A session row, with its user's state.</summary>
internal sealed record StoredSession(string SessionId, string UserId, string UserName, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, bool UserDisabled);
