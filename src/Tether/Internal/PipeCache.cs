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
    private readonly PipeMap _outbound;

    public PipeCache(IMessageAdapters adapters, Type targetType, DispatchTable table)
    {
        IReadOnlyList<Type> channels = table.MessageTypes;
        _inbound = new MessagePipe?[channels.Count];
        for (int i = 0; i < _inbound.Length; i++)
        {
            _inbound[i] = adapters.Inbound(targetType, channels[i], channels);
        }

        _unhandled = new PipeMap(type => adapters.Inbound(targetType, type, channels));
        _outbound = new PipeMap(type => adapters.Outbound(targetType, type));
    }

    /// <summary>The inbound pipe of the input channel at <paramref name="index"/> of the dispatch table.</summary>
    public MessagePipe? InboundAt(int index) => _inbound[index];

    /// <summary>The inbound pipe of a message type the target has no input channel for (it may map the message onto one).</summary>
    public MessagePipe? InboundUnhandled(Type messageType) => _unhandled.Get(messageType);

    /// <summary>Applies the postconditions of an outgoing message; null passes through (the caller reports it).</summary>
    public object? Outbound(object? message)
    {
        if (message is null)
        {
            return null;
        }

        MessagePipe? pipe = _outbound.Get(message.GetType());
        return pipe is null ? message : pipe.Apply(message);
    }
}
