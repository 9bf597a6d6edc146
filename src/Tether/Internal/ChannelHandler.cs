using System.Runtime.CompilerServices;

namespace Tether.Internal;

/// <summary>One input channel of one target type: a typed handler behind a single virtual call.</summary>
internal abstract class ChannelHandler
{
    protected ChannelHandler(Type messageType, bool isRequest, bool isAsync)
    {
        MessageType = messageType;
        IsRequest = isRequest;
        IsAsync = isAsync;
    }

    public Type MessageType { get; }

    /// <summary>True when the channel answers requests (its result goes to the request's reply sink).</summary>
    public bool IsRequest { get; }

    /// <summary>True when the handler may suspend; it then runs with the target's turn context installed.</summary>
    public bool IsAsync { get; }

    /// <summary>The right a message's session must hold before this channel runs (<see cref="Channels{TSelf}.Requires"/>); null when open.</summary>
    public string? RequiredRight { get; set; }

    /// <summary>
    /// The payload as the channel's message type. The mailbox found this channel by the payload's exact type, so for a
    /// class the checked cast is redundant (in shared generic code it costs a runtime helper call per message).
    /// </summary>
    protected static TMessage Cast<TMessage>(object payload)
        => typeof(TMessage).IsValueType ? (TMessage)payload : Unsafe.As<object, TMessage>(ref payload);

    /// <summary>Runs the handler. A handler that throws synchronously throws from here; the mailbox handles it.</summary>
    public abstract ValueTask Invoke(Target target, Envelope envelope, in Context context);

    /// <summary>
    /// Sends a handler's answer through the target's output channel: with adapters, their postconditions run on it
    /// (a violation throws here and the mailbox answers the requester with it); without, it goes unboxed.
    /// </summary>
    protected static void Answer<TResponse>(ReplySink? reply, TargetCell cell, TResponse response)
    {
        if (reply is null)
        {
            return;
        }

        if (cell.HasAdapters)
        {
            reply.TryComplete(cell.AdaptOutbound(response));
        }
        else
        {
            reply.TryCompleteTyped(response);
        }
    }
}
