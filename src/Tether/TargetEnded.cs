namespace Tether;

/// <summary>
/// Sent to an owner when one of its instances ends, and to a target that watches another (<see cref="Context.Watch"/>)
/// when that one ends, on any node. Delivered only to targets that wire an input channel for it (an owner that does
/// watches its instances on other nodes, one registration each).
/// </summary>
/// <param name="Instance">The target that ended.</param>
/// <param name="Reason">Why, in words: "ended by its owner", "lease expired", "owner ended", "no such target",
/// "node X is unreachable", "node X stopped", ...</param>
public sealed record TargetEnded(Address Instance, string Reason);
