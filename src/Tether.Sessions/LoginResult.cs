namespace Tether.Sessions;

/// <summary>A session: its token (to pass as <c>session:</c> or <see cref="Context.WithSession"/>) and who it is.</summary>
/// <param name="Token">The signed session token; never printed (<see cref="ToString"/> redacts it).</param>
/// <param name="Identity">The session's identity (the token says the same).</param>
public sealed record LoginResult(string Token, SessionIdentity Identity)
{
    /// <inheritdoc />
    public override string ToString() => $"LoginResult {{ Token = ***, Identity = {Identity} }}";
}
