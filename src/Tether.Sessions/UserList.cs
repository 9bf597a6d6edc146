namespace Tether.Sessions;

/// <summary>The answer to <see cref="ListUsers"/>.</summary>
/// <param name="Users">Every user, ordered by name (ordinal).</param>
public sealed record UserList(IReadOnlyList<UserInfo> Users);
