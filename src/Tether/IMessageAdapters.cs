namespace Tether;

/// <summary>
/// The mailbox's hook for declarative adapters (message contracts). Set one on <see cref="NodeOptions.Adapters"/>;
/// the node asks it for pipes and caches the answers, so it is called once per (target type, message type), never per message.
/// </summary>
/// <remarks>
/// <para><b>Cost.</b> With no adapters (<see cref="NodeOptions.Adapters"/> null) the mailbox pays one null check per
/// message. With adapters, a message type whose pipe is null pays one array read at the receiving mailbox and, when
/// any postconditions exist (<see cref="HasOutbound"/>), one small type scan per send.</para>
/// <para><b>When.</b> <see cref="Inbound"/> is asked for every input channel of a target type when the first target
/// of that type is spawned on the node (so a pipe that cannot be built stops that spawn), and lazily for a message
/// type the target has no input channel for (a pipe may map it onto one). <see cref="Outbound"/> is asked the first
/// time a target type sends, publishes, requests or answers with a message type.</para>
/// <para><b>Scope.</b> Outbound pipes run for messages sent by targets, through <see cref="Context"/>, handler
/// return values and <see cref="ReplyToken{T}"/>s (keyed by the type of the target whose input channel took the
/// request). Messages sent from outside any target (<see cref="Node.Send{T}(Address, T, string?)"/>) meet only the receiver's inbound pipe.</para>
/// <para>Implementations must be thread-safe; the methods may be called concurrently.</para>
/// </remarks>
public interface IMessageAdapters
{
    /// <summary>
    /// The preconditions a message of type <paramref name="messageType"/> must meet before an input channel of
    /// <paramref name="targetType"/>, or null when it has none (the message goes to dispatch untouched).
    /// </summary>
    /// <param name="targetType">The receiving target's type.</param>
    /// <param name="messageType">The runtime type of the arriving message.</param>
    /// <param name="inputChannels">The message types <paramref name="targetType"/> has input channels for.</param>
    MessagePipe? Inbound(Type targetType, Type messageType, IReadOnlyList<Type> inputChannels);

    /// <summary>
    /// The postconditions a message of type <paramref name="messageType"/> must meet when a target of type
    /// <paramref name="targetType"/> sends, publishes, requests or answers with it, or null when it has none.
    /// </summary>
    /// <param name="targetType">The sending target's type.</param>
    /// <param name="messageType">The runtime type of the outgoing message.</param>
    MessagePipe? Outbound(Type targetType, Type messageType);

    /// <summary>
    /// False when <see cref="Outbound"/> answers null for every type (no postconditions at all): the node then skips
    /// the type scan on every send. Read once per target type, when its first target is spawned. True by default.
    /// </summary>
    bool HasOutbound => true;
}
