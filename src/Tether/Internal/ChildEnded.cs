namespace Tether.Internal;

/// <summary>A tethered instance ended.</summary>
internal sealed record ChildEnded(TargetCell Child, string Reason);
