namespace Tether.Sessions;

/// <summary>
/// Asks the session manager to confirm a token: signed by a trusted key, not expired, not revoked, its user not disabled.
/// Answered <see langword="true"/>, or an error: <see cref="ErrorCodes.Unauthenticated"/>,
/// <see cref="ErrorCodes.SessionExpired"/>, <see cref="ErrorCodes.SessionRevoked"/>. The short form of
/// <see cref="VerifySession"/> for an asker that reads the token's claims itself (it has the token): the answer carries no
/// identity back. <see cref="SessionVerifier"/> sends it for a token its node has not verified yet.
/// </summary>
/// <param name="Token">The session token; never printed.</param>
public sealed record ConfirmSession(string Token) : IRequest<bool>
{
    /// <inheritdoc />
    public override string ToString() => "ConfirmSession { Token = *** }";
}
