namespace Tether;

/// <summary>
/// A verified session: who is acting and with which rights. The mailbox of a protected input channel
/// (<see cref="Channels{TSelf}.Requires"/>) hands it to the handler as <see cref="Context.Session"/>.
/// </summary>
/// <param name="SessionId">The session's id (one login).</param>
/// <param name="UserId">The user's stable id in the user store.</param>
/// <param name="UserName">The user's login name, verbatim.</param>
/// <param name="Rights">The rights the session carries.</param>
/// <param name="ExpiresAt">When the session's token expires.</param>
public sealed record SessionIdentity(string SessionId, string UserId, string UserName, IReadOnlyList<string> Rights, DateTimeOffset ExpiresAt)
{
    /// <summary>True when the session carries <paramref name="right"/> (an exact, ordinal match).</summary>
    public bool HasRight(string right)
    {
        ArgumentNullException.ThrowIfNull(right);
        foreach (string held in Rights)
        {
            if (string.Equals(held, right, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public override string ToString() => $"session {SessionId} of {UserName} ({UserId}), {Rights.Count} rights, expires {ExpiresAt:O}";
}
