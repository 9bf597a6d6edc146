namespace Tether.Internal;

/// <summary>A new instance is tethered to this (owner) target.</summary>
internal sealed record ChildAdded(TargetCell Child);
