namespace Tether.Sessions;

/// <summary>A revoked session, as the revocation topic carries it.</summary>
/// <param name="SessionId">The session's id.</param>
/// <param name="ExpiresAt">When its tokens expire anyway (after that nobody needs to remember it).</param>
public sealed record RevokedSession(string SessionId, DateTimeOffset ExpiresAt);
