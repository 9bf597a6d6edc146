namespace Tether.Sessions;

/// <summary>Takes a right from a user (administration: needs <see cref="SessionManager.AdminRight"/>); live sessions keep it until they are renewed or end.</summary>
/// <param name="UserName">The login name.</param>
/// <param name="Right">The right.</param>
public sealed record RevokeRight(string UserName, string Right) : IRequest<UserInfo>;
