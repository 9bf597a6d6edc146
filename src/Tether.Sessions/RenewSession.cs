namespace Tether.Sessions;

/// <summary>
/// Renews a live session: answered with a new token for the same session id, expiring one session lifetime from now, with
/// the user's current rights. The old token stays valid until its own expiry. Errors as <see cref="VerifySession"/>.
/// </summary>
/// <param name="Token">The session token; never printed.</param>
public sealed record RenewSession(string Token) : IRequest<LoginResult>
{
    /// <inheritdoc />
    public override string ToString() => "RenewSession { Token = *** }";
}
