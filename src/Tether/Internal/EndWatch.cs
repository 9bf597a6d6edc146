namespace Tether.Internal;

/// <summary>
/// Someone wants to learn when this target ends: a watching target (<see cref="Context.Watch"/>), a task
/// (<see cref="Node.EndAsync"/>), or another node (<paramref name="WatcherNode"/>, told through the transport). Sent to
/// the watched target, which answers at once if it has ended already.
/// </summary>
internal sealed record EndWatch(TargetCell? Watcher, TaskCompletionSource? Waiter, string? WatcherNode = null);
