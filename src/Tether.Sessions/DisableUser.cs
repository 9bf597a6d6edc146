namespace Tether.Sessions;

/// <summary>Disables a user (administration: needs <see cref="SessionManager.AdminRight"/>): no more logins, and every live session of the user is revoked on every node.</summary>
/// <param name="UserName">The login name.</param>
public sealed record DisableUser(string UserName) : IRequest<UserInfo>;
