using Tether.Internal;

namespace Tether.Transport;

/// <summary>
/// Deliveries from one source (a message from the wire holding a batch of frames) waiting to be posted together:
/// consecutive messages for one target become one chain in its mailbox (see
/// <see cref="TransportHost.Deliver(ref DeliveryRun, Address, long, object, MessageKind, ReplySink?, System.Diagnostics.ActivityContext, string?)"/>).
/// Keep one per thread that unpacks, pass it by reference, and <see cref="TransportHost.Flush"/> it before anything
/// that must keep its order after the messages in it, and when the batch ends.
/// </summary>
public struct DeliveryRun
{
    /// <summary>The most envelopes posted in one chain: the target starts on the first of them while the rest are read.</summary>
    public const int MaxCount = 32;

    internal TargetCell? Cell;
    internal Node? Node;
    internal long Id;
    internal Envelope? Newest;
    internal Envelope? Oldest;
    internal int Count;

    /// <summary>Set by the source while it unpacks (it flushes before clearing it); deliver directly when false.</summary>
    public bool Active { readonly get; set; }
}
