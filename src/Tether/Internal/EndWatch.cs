namespace Tether.Internal;

/// <summary>
/// Someone wants to learn when this target ends: a watching target (<see cref="Context.Watch"/>) or a task
/// (<see cref="Node.EndAsync"/>). Sent to the watched target, which answers at once if it has ended already.
/// </summary>
internal sealed record EndWatch(TargetCell? Watcher, TaskCompletionSource? Waiter);
