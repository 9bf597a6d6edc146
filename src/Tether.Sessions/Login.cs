namespace Tether.Sessions;

/// <summary>Logs in: answered with a <see cref="LoginResult"/>, or <see cref="ErrorCodes.Unauthenticated"/> (wrong name or password, or a disabled user: the same answer, after the same work).</summary>
/// <param name="UserName">The login name, verbatim.</param>
/// <param name="Password">The password; never printed (<see cref="ToString"/> redacts it).</param>
public sealed record Login(string UserName, string Password) : IRequest<LoginResult>
{
    /// <inheritdoc />
    public override string ToString() => $"Login {{ UserName = {UserName}, Password = *** }}";
}
