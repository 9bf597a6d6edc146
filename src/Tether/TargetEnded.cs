namespace Tether;

/// <summary>
/// Sent to an owner when one of its instances ends. Delivered only to owners that wire an input channel for it.
/// </summary>
/// <param name="Instance">The instance that ended.</param>
/// <param name="Reason">Why, in words: "ended by its owner", "lease expired", "owner ended", "handler failed", ...</param>
public sealed record TargetEnded(Address Instance, string Reason);
