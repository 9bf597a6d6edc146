namespace Tether.Internal;

/// <summary>
/// The adapter pipes of one target type on one node, asked of <see cref="IMessageAdapters"/> once and kept.
/// Inbound pipes for the type's input channels sit in an array parallel to its <see cref="DispatchTable"/>, so a
/// handled message finds its pipe by the index dispatch needs anyway; other types go through small maps.
/// </summary>
internal sealed class PipeCache
{
    private readonly MessagePipe?[] _inbound;
    private readonly PipeMap _unhandled;
    private readonly PipeMap? _outbound; // null when the adapters have no postconditions at all

    public PipeCache(IMessageAdapters adapters, Type targetType, DispatchTable table)
    {
        IReadOnlyList<Type> channels = table.MessageTypes;
        _inbound = new MessagePipe?[channels.Count];
        for (int i = 0; i < _inbound.Length; i++)
        {
            _inbound[i] = adapters.Inbound(targetType, channels[i], channels);
        }

        _unhandled = new PipeMap(type => adapters.Inbound(targetType, type, channels));
        _outbound = adapters.HasOutbound ? new PipeMap(type => adapters.Outbound(targetType, type)) : null;
    }

    /// <summary>The inbound pipe of the input channel at <paramref name="index"/> of the dispatch table.</summary>
    public MessagePipe? InboundAt(int index) => _inbound[index];

    /// <summary>The inbound pipe of a message type the target has no input channel for (it may map the message onto one).</summary>
    public MessagePipe? InboundUnhandled(Type messageType) => _unhandled.Get(messageType);

    /// <summary>False when no message type has postconditions: a send then passes untouched without a lookup.</summary>
    public bool HasOutbound => _outbound is not null;

    /// <summary>Applies the postconditions of an outgoing message; null passes through (the caller reports it).</summary>
    public object? Outbound(object? message)
    {
        if (message is null || _outbound is null)
        {
            return message;
        }

        MessagePipe? pipe = _outbound.Get(message.GetType());
        return pipe is null ? message : pipe.Apply(message);
    }
}
