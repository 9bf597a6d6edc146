namespace Tether.Nats.Internal;

/// <summary>
/// While a batch is unpacked: the sender node and contract names of the frame read last, which a frame after it may
/// refer to with <see cref="Frame.SameName"/> instead of repeating them. A reference resolves only to the item just
/// before (read successfully); any other is a <see cref="WireException"/>, never a name from an older frame.
/// </summary>
internal sealed class BatchNames
{
    private int _item = -1; // the item being handled
    private int _read = -1; // the item whose names these are

    public string? Node { get; private set; }

    public string? Contract { get; private set; }

    /// <summary>True when the names are those of the item just before the one being handled.</summary>
    public bool HasPrevious => _read >= 0 && (_read == _item - 1 || _read == _item);

    /// <summary>The batch's next item is about to be handled.</summary>
    public void Next() => _item++;

    /// <summary>The current item's header was read: its names are what the next item may refer to.</summary>
    public void Read(string? node, string? contract)
    {
        Node = node;
        Contract = contract;
        _read = _item;
    }
}
