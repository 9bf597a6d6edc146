namespace Tether.Internal;

/// <summary>
/// Ends the target. An untrusted signal is honoured only from the target's owner, the target itself, or from outside
/// any target (<see cref="Address.None"/>); trusted ones come from the runtime (owner ended, lease expired, node stopping).
/// </summary>
internal sealed record EndSignal(string Reason, Address RequestedBy, bool Trusted = false);
