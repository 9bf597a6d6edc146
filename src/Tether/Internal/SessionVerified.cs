namespace Tether.Internal;

/// <summary>A parked message's verification finished while the cell was running (or on a thread not to run it on); the cell's consumer acts on it.</summary>
internal sealed record SessionVerified(SessionGate.Stream Sender, SessionVerdict Verdict);
