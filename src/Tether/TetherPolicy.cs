namespace Tether;

/// <summary>
/// When an instance ends on its own because the link to its owner broke. The owner can always end an
/// instance explicitly with <see cref="Context.End(Address)"/>; this policy says what else ends it.
/// </summary>
public sealed record TetherPolicy
{
    /// <summary>End the instance when its owner ends, or when the owner's node becomes unreachable. The default.</summary>
    public static TetherPolicy WithOwner { get; } = new() { EndWhenOwnerEnds = true, EndWhenOwnerNodeUnreachable = true };

    /// <summary>No automatic end: the instance lives until it ends itself or is ended explicitly.</summary>
    public static TetherPolicy Detached { get; } = new();

    /// <summary>End the instance when its owner ends, its node is unreachable, or the owner has not renewed the lease within <paramref name="lease"/>.</summary>
    /// <param name="lease">How long a renewal keeps the instance alive; positive.</param>
    public static TetherPolicy Leased(TimeSpan lease)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        return WithOwner with { Lease = lease };
    }

    /// <summary>End the instance when its owner ends.</summary>
    public bool EndWhenOwnerEnds { get; init; }

    /// <summary>End the instance when the owner's node is declared unreachable (meaningful across nodes).</summary>
    public bool EndWhenOwnerNodeUnreachable { get; init; }

    /// <summary>When set, the owner must renew with <see cref="Context.Renew(Address)"/> at least this often.</summary>
    public TimeSpan? Lease { get; init; }

    /// <summary>True when nothing ends the instance automatically.</summary>
    public bool IsDetached => !EndWhenOwnerEnds && !EndWhenOwnerNodeUnreachable && Lease is null;
}
