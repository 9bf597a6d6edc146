namespace Tether.Sessions;

/// <summary>A user of the user store, as administration sees it (never the password or its hash).</summary>
/// <param name="UserId">The stable id (a GUID in "N" form).</param>
/// <param name="UserName">The login name, verbatim (compared ordinally: case and every character count).</param>
/// <param name="Rights">The rights a new session of the user carries, in ordinal order.</param>
/// <param name="Disabled">True when the user may not log in (and its sessions were revoked).</param>
/// <param name="CreatedAt">When the user was created.</param>
public sealed record UserInfo(string UserId, string UserName, IReadOnlyList<string> Rights, bool Disabled, DateTimeOffset CreatedAt)
{
    /// <inheritdoc />
    public override string ToString() => $"{UserName} ({UserId}){(Disabled ? " disabled" : "")}: {string.Join(", ", Rights)}";
}
