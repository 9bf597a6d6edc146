namespace Tether.Sessions;

/// <summary>
/// Asks the session manager whether a token is a live session (signed by a trusted key, not expired, not revoked, its
/// user not disabled) and, when <paramref name="Right"/> is given, holds that right. Answered with the
/// <see cref="SessionIdentity"/>, or an error: <see cref="ErrorCodes.Unauthenticated"/>, <see cref="ErrorCodes.SessionExpired"/>,
/// <see cref="ErrorCodes.SessionRevoked"/>, <see cref="ErrorCodes.Forbidden"/>. <see cref="SessionVerifier"/> sends it.
/// </summary>
/// <param name="Token">The session token; never printed.</param>
/// <param name="Right">The right to check, or null for none.</param>
public sealed record VerifySession(string Token, string? Right) : IRequest<SessionIdentity>
{
    /// <inheritdoc />
    public override string ToString() => $"VerifySession {{ Token = ***, Right = {Right} }}";
}
