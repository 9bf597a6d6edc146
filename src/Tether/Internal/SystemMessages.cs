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

/// <summary>
/// Someone wants to learn when this target ends: a watching target (<see cref="Context.Watch"/>), a task
/// (<see cref="Node.EndAsync"/>), or another node (<paramref name="WatcherNode"/>, told through the transport). Sent to
/// the watched target, which answers at once if it has ended already.
/// </summary>
internal sealed record EndWatch(TargetCell? Watcher, TaskCompletionSource? Waiter, string? WatcherNode = null);

/// <summary>A watching target, or another node (<paramref name="WatcherNode"/>), no longer wants to learn of this target's end.</summary>
internal sealed record EndUnwatch(TargetCell? Watcher, string? WatcherNode = null);

/// <summary>A target this one watches has ended (to the watcher).</summary>
internal sealed record WatchedEnded(Address Target, string Reason);

/// <summary>An instance on another node is tethered to this (owner) target.</summary>
internal sealed record RemoteChildAdded(Address Child);
