namespace Tether.Sessions;

/// <summary>
/// Ends a session: it is revoked in the store and on every node (the revocation topic), so every token of it is refused
/// with <see cref="ErrorCodes.SessionRevoked"/>. Answered true when it revoked the session, false when it was revoked
/// already; <see cref="ErrorCodes.Unauthenticated"/> when the token is not one of ours.
/// </summary>
/// <param name="Token">The session token; never printed.</param>
public sealed record Logout(string Token) : IRequest<bool>
{
    /// <inheritdoc />
    public override string ToString() => "Logout { Token = *** }";
}
