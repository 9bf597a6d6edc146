namespace Tether.Internal;

// Tethers: this target's owner and policy, its tethered children, and the lease an owner must renew.
internal sealed partial class TargetCell
{
    private OwnerTie? _tie;

    public Address Owner => _tie?.Owner ?? default;

    internal TetherPolicy? TetherPolicy => _tie?.Policy;

    /// <summary>Sets the owner and tether; called by the spawner before the cell is published.</summary>
    public void Tether(Address owner, TargetCell? ownerCell, TetherPolicy policy)
    {
        _tie = new OwnerTie(owner, ownerCell, policy);
        if (policy.Lease is { } lease)
        {
            CellExtras extras = Extras;
            extras.LeaseExpiry = Node.TimeProvider.GetTimestamp() + ToTicks(lease);
            extras.LeaseTimer = Node.TimeProvider.CreateTimer(static s => ((TargetCell)s!).PostSystem(LeaseCheck.Instance), this, lease, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Adds a tethered instance; only from this cell's own turn.</summary>
    public void AddChild(TargetCell child) => (Extras.Children ??= []).Add(child);

    private void CheckLease()
    {
        if (!IsAlive || _tie?.Policy.Lease is null || _extras is null)
        {
            return;
        }

        long remaining = _extras.LeaseExpiry - Node.TimeProvider.GetTimestamp();
        if (remaining <= 0)
        {
            EndNow("lease expired");
            return;
        }

        _extras.LeaseTimer?.Change(TimeSpan.FromSeconds((double)remaining / Node.TimeProvider.TimestampFrequency), Timeout.InfiniteTimeSpan);
    }

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Node.TimeProvider.TimestampFrequency);
}
