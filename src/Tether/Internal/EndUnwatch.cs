namespace Tether.Internal;

/// <summary>A watching target, or another node (<paramref name="WatcherNode"/>), no longer wants to learn of this target's end.</summary>
internal sealed record EndUnwatch(TargetCell? Watcher, string? WatcherNode = null);
