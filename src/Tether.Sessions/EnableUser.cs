namespace Tether.Sessions;

/// <summary>Enables a disabled user again (administration: needs <see cref="SessionManager.AdminRight"/>).</summary>
/// <param name="UserName">The login name.</param>
public sealed record EnableUser(string UserName) : IRequest<UserInfo>;
