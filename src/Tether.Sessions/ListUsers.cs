namespace Tether.Sessions;

/// <summary>Lists every user (administration: needs <see cref="SessionManager.AdminRight"/>).</summary>
public sealed record ListUsers : IRequest<UserList>;
