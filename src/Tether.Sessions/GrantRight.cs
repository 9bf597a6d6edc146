namespace Tether.Sessions;

/// <summary>Grants a right to a user (administration: needs <see cref="SessionManager.AdminRight"/>); sessions made or renewed from now on carry it.</summary>
/// <param name="UserName">The login name.</param>
/// <param name="Right">The right, one word (for example <c>orders.place</c>).</param>
public sealed record GrantRight(string UserName, string Right) : IRequest<UserInfo>;
