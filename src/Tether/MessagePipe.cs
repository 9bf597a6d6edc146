namespace Tether;

/// <summary>
/// One message type's adapters at one mailbox, chained and compiled once: preconditions (before an input channel)
/// or postconditions (after an output channel), transforms and extraction. Built by an <see cref="IMessageAdapters"/>
/// once per (target type, message type) and cached by the node; never built per message.
/// </summary>
/// <remarks>
/// <para>A pipe is shared by every target of a type and may run on several threads at once: it must be stateless
/// or thread-safe.</para>
/// <para>Inbound, the result is dispatched on its own type, so a pipe may map one version of a message onto another
/// (v1 → v2) or project a large message onto the smaller type the target handles. Outbound, the receiver sees the
/// result; for a request the result must still be a request for the same response type.</para>
/// </remarks>
public abstract class MessagePipe
{
    /// <summary>
    /// Checks and transforms <paramref name="message"/>. Returns the message to pass on: the same instance when
    /// nothing changes (the common case; return it without copying), or a new one.
    /// </summary>
    /// <param name="message">The message; never null.</param>
    /// <returns>The message to dispatch or send on; never null.</returns>
    /// <exception cref="TetherException">
    /// Code <see cref="ErrorCodes.ContractViolation"/>, preferably a <see cref="ContractViolationException"/>: the message
    /// breaks a rule. Inbound, the handler does not run: a requester receives this error, a send or event is dropped and
    /// counted (<see cref="NodeStatistics.ContractViolations"/>). Outbound, it is thrown to the code that tried to send.
    /// </exception>
    public abstract object Apply(object message);
}
