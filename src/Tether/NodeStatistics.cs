namespace Tether;

/// <summary>A snapshot of a node's counters.</summary>
/// <param name="Targets">Live targets.</param>
/// <param name="Dropped">Sends and events dropped because a mailbox was full.</param>
/// <param name="DeadLetters">Sends and events that found no live target or no input channel.</param>
/// <param name="HandlerFailures">Handlers that threw (not counting deliberate <see cref="TetherException"/> answers).</param>
/// <param name="PendingRequests">Requests sent from this node still waiting for their outcome.</param>
/// <param name="MailboxDepth">User messages waiting in all mailboxes together.</param>
/// <param name="ContractViolations">
/// Messages an adapter's precondition stopped at a mailbox: sends and events dropped, requests answered with
/// <see cref="ErrorCodes.ContractViolation"/>.
/// </param>
/// <param name="SessionRefusals">
/// Messages a protected input channel (<see cref="Channels{TSelf}.Requires"/>) refused: sends and events dropped,
/// requests answered with the session's error code.
/// </param>
public sealed record NodeStatistics(int Targets, long Dropped, long DeadLetters, long HandlerFailures, int PendingRequests, long MailboxDepth, long ContractViolations = 0, long SessionRefusals = 0);
