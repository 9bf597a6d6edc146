namespace Tether.Internal;

/// <summary>
/// The runtime side of a target: its mailbox, its scheduling, supervision and tethers. The user's
/// <see cref="Target"/> object holds only user state; the cell outlives it across restarts.
/// </summary>
/// <remarks>
/// One class cut along its features, a partial file each, with the fields next to the feature that uses them:
/// <c>TargetCell.Mailbox.cs</c> (the inbox, its bound and scheduling), <c>TargetCell.Dispatch.cs</c> (adapters,
/// handler runs, turns), <c>TargetCell.Sessions.cs</c> (the session gate), <c>TargetCell.System.cs</c> (system
/// messages), <c>TargetCell.Lifecycle.cs</c> (supervision and ending), <c>TargetCell.Tethers.cs</c> (owner, children,
/// leases), <c>TargetCell.Watches.cs</c> (watching ends) and <c>TargetCell.Bookkeeping.cs</c> (timers, topics,
/// services). This file holds identity and the alive/ended state.
/// </remarks>
internal sealed partial class TargetCell
{
    // The cell's small fields are bytes where a byte holds them (_state, _status, _supervision): with the four mailbox
    // counters they fill one 8-byte slot less than as ints, so a target costs 8 B less (TargetCellLayoutTests).
    private const byte Alive = 0;
    private const byte Ended = 1;

    private readonly Func<Target> _create;
    private byte _state;
    private CellExtras? _extras;

    public TargetCell(Node node, long id, Target target, DispatchTable table, Func<Target> create, int capacity, Supervision supervision, PipeCache? pipes = null)
    {
        Node = node;
        Id = id;
        Target = target;
        Table = table;
        _create = create;
        _capacity = capacity;
        _supervision = (byte)supervision;
        _pipes = pipes;
    }

    public Node Node { get; }

    public long Id { get; }

    public Target Target { get; private set; }

    public DispatchTable Table { get; }

    public Address Address => new(Node.Name, Id, this);

    public bool IsAlive => Volatile.Read(ref _state) == Alive;

    private CellExtras Extras => _extras ??= new CellExtras();
}
