namespace Tether.Sessions;

/// <summary>Sets a user's password (administration: needs <see cref="SessionManager.AdminRight"/>). Answered with the <see cref="UserInfo"/>, or <see cref="SessionErrorCodes.NoSuchUser"/>.</summary>
/// <param name="UserName">The login name.</param>
/// <param name="Password">The new password; never printed.</param>
public sealed record SetPassword(string UserName, string Password) : IRequest<UserInfo>
{
    /// <inheritdoc />
    public override string ToString() => $"SetPassword {{ UserName = {UserName}, Password = *** }}";
}
