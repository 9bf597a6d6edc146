namespace Tether.Internal;

/// <summary>A watching target no longer wants to learn of this target's end.</summary>
internal sealed record EndUnwatch(TargetCell Watcher);
