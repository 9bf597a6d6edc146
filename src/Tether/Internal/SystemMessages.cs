namespace Tether.Internal;

/// <summary>Runs the target's OnStarted hook as its first turn.</summary>
internal sealed class StartSignal
{
    public static readonly StartSignal Instance = new();
}

/// <summary>
/// Ends the target. An untrusted signal is honoured only from the target's owner, the target itself, or from outside
/// any target (<see cref="Address.None"/>); trusted ones come from the runtime (owner ended, lease expired, node stopping).
/// </summary>
internal sealed record EndSignal(string Reason, Address RequestedBy, bool Trusted = false);

/// <summary>The rest of an async handler after an await: one turn.</summary>
internal sealed record Continuation(SendOrPostCallback Callback, object? State);

/// <summary>A new instance is tethered to this (owner) target.</summary>
internal sealed record ChildAdded(TargetCell Child);

/// <summary>A tethered instance ended.</summary>
internal sealed record ChildEnded(TargetCell Child, string Reason);

/// <summary>The owner renewed an instance's lease.</summary>
internal sealed class LeaseRenewal
{
    public static readonly LeaseRenewal Instance = new();
}

/// <summary>The lease timer fired; the mailbox checks whether the lease still holds.</summary>
internal sealed class LeaseCheck
{
    public static readonly LeaseCheck Instance = new();
}

/// <summary>An instance on another node is tethered to this (owner) target.</summary>
internal sealed record RemoteChildAdded(Address Child);
