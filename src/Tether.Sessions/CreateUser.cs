namespace Tether.Sessions;

/// <summary>Creates a user (administration: needs <see cref="SessionManager.AdminRight"/>). Answered with the <see cref="UserInfo"/>, or <see cref="SessionErrorCodes.UserExists"/> or <see cref="ErrorCodes.BadRequest"/>.</summary>
/// <param name="UserName">The login name, stored verbatim.</param>
/// <param name="Password">The password; never printed.</param>
/// <param name="Rights">The user's rights (null for none).</param>
public sealed record CreateUser(string UserName, string Password, IReadOnlyList<string>? Rights) : IRequest<UserInfo>
{
    /// <inheritdoc />
    public override string ToString() => $"CreateUser {{ UserName = {UserName}, Password = ***, Rights = {(Rights is null ? "" : string.Join(", ", Rights))} }}";
}
