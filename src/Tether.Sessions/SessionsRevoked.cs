namespace Tether.Sessions;

/// <summary>
/// The event on the revocation topic (<see cref="SessionManagerOptions.RevocationTopic"/>): every session revoked in the
/// store that has not expired yet. Each event carries the whole set, so the latest one is enough for a node that was
/// away (a durable topic hands a late subscriber the latest event).
/// </summary>
/// <param name="Sessions">The revoked, unexpired sessions.</param>
public sealed record SessionsRevoked(IReadOnlyList<RevokedSession> Sessions)
{
    /// <inheritdoc />
    public override string ToString() => $"SessionsRevoked {{ {Sessions.Count} sessions }}";
}
