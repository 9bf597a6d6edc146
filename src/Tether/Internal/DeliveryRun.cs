namespace Tether.Internal;

/// <summary>Deliveries from one source waiting to be posted together; see <c>Node.Deliver(ref DeliveryRun, ...)</c>.</summary>
internal struct DeliveryRun
{
    /// <summary>The most envelopes posted in one chain: the target starts on the first of them while the rest are read.</summary>
    public const int MaxCount = 32;

    /// <summary>Set by the source while it unpacks (it flushes before clearing it); deliver directly when false.</summary>
    public bool Active;

    public TargetCell? Cell;
    public Node? Node;
    public long Id;
    public Envelope? Newest;
    public Envelope? Oldest;
    public int Count;
}
