namespace Tether.Nats;

/// <summary>A snapshot of a broker proxy's counters.</summary>
/// <param name="FramesSent">Frames published.</param>
/// <param name="FramesReceived">Frames received on any of the proxy's subscriptions.</param>
/// <param name="BadFrames">Frames rejected: truncated, oversized, unknown kind or contract, malformed payload.</param>
/// <param name="PeersLost">Peers declared unreachable (silent beyond the failure timeout) so far.</param>
/// <param name="PendingRemoteRequests">Requests sent to other nodes and not yet answered.</param>
/// <param name="PeersStopped">Peers that stopped normally (they said goodbye) so far; not counted in <paramref name="PeersLost"/>.</param>
public sealed record BrokerStatistics(long FramesSent, long FramesReceived, long BadFrames, long PeersLost, int PendingRemoteRequests, long PeersStopped);
