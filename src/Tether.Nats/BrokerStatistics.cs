namespace Tether.Nats;

/// <summary>A snapshot of a broker proxy's counters.</summary>
/// <param name="FramesSent">Frames published.</param>
/// <param name="FramesReceived">Frames received on any of the proxy's subscriptions.</param>
/// <param name="BadFrames">Frames rejected: truncated, oversized, unknown kind or contract, malformed payload.</param>
/// <param name="PeersLost">Peers declared unreachable (silent beyond the failure timeout) so far.</param>
/// <param name="PendingRemoteRequests">Requests sent to other nodes and not yet answered.</param>
/// <param name="PeersStopped">Peers that stopped normally (they said goodbye) so far; not counted in <paramref name="PeersLost"/>.</param>
/// <param name="SendsDropped">
/// Sends from this node to another node's targets that were dropped: here, because more than
/// <see cref="BrokerOptions.MaxPendingBytesPerNode"/> already waited for that node, or there, reported back by that node
/// (a target's mailbox full and its flow-control queue too). A request is never counted: it fails with
/// <see cref="ErrorCodes.MailboxFull"/> instead.
/// </param>
/// <param name="CreditWaits">How often a destination node's outbox stopped to wait for credit (the sender was slowed).</param>
/// <param name="DroppedForPeers">
/// Sends from other nodes that this node dropped: their target's mailbox was full and two
/// <see cref="BrokerOptions.FlowWindow"/>s of messages already waited for it here (more than one sender's credit allows). Each is reported to its sender, which
/// counts it in its <see cref="SendsDropped"/>.
/// </param>
/// <param name="DurableAcknowledged">
/// Events published by this node on a durable topic (<see cref="BrokerOptions.DurableTopics"/>) that JetStream
/// acknowledged: stored on the topic's stream, so a subscriber there receives them and a late one is handed the latest.
/// </param>
/// <param name="DurableFailed">
/// Events published by this node on a durable topic that JetStream did not acknowledge (no answer, no JetStream
/// reachable, an error): each is logged; such an event may be lost.
/// </param>
public sealed record BrokerStatistics(long FramesSent, long FramesReceived, long BadFrames, long PeersLost, int PendingRemoteRequests, long PeersStopped = 0, long SendsDropped = 0, long CreditWaits = 0, long DroppedForPeers = 0, long DurableAcknowledged = 0, long DurableFailed = 0);
