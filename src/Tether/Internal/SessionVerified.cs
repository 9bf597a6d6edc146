namespace Tether.Internal;

/// <summary>A parked message's verification finished (on some thread); the cell's consumer acts on it.</summary>
internal sealed record SessionVerified(SessionGate.Stream Sender, SessionVerdict Verdict);
