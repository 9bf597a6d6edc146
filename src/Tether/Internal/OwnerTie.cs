namespace Tether.Internal;

/// <summary>A tethered target's link to its owner: kept apart from <see cref="CellExtras"/> so a plain tethered child stays small.</summary>
internal sealed class OwnerTie(Address owner, TargetCell? ownerCell, TetherPolicy policy)
{
    public Address Owner { get; } = owner;

    public TargetCell? OwnerCell { get; } = ownerCell;

    public TetherPolicy Policy { get; } = policy;
}
