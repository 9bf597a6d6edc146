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

internal sealed class SendHandler<TSelf, TMessage>(Action<TSelf, TMessage, Context> handler)
    : ChannelHandler(typeof(TMessage), isRequest: false, isAsync: false)
    where TSelf : Target
{
    public override ValueTask Invoke(Target target, Envelope envelope, in Context context)
    {
        handler(Unsafe.As<TSelf>(target), Cast<TMessage>(envelope.Payload), context);
        return default;
    }
}

internal sealed class AsyncSendHandler<TSelf, TMessage>(Func<TSelf, TMessage, Context, ValueTask> handler)
    : ChannelHandler(typeof(TMessage), isRequest: false, isAsync: true)
    where TSelf : Target
{
    public override ValueTask Invoke(Target target, Envelope envelope, in Context context)
        => handler(Unsafe.As<TSelf>(target), Cast<TMessage>(envelope.Payload), context);
}

internal sealed class RequestHandler<TSelf, TRequest, TResponse>(Func<TSelf, TRequest, Context, TResponse> handler)
    : ChannelHandler(typeof(TRequest), isRequest: true, isAsync: false)
    where TSelf : Target
{
    public override ValueTask Invoke(Target target, Envelope envelope, in Context context)
    {
        TResponse response = handler(Unsafe.As<TSelf>(target), Cast<TRequest>(envelope.Payload), context);

        // The answer leaves through this target's output channel: a postcondition violation throws here and the
        // mailbox sends it to the requester instead.
        Answer(envelope.Reply, context.Cell, response);
        return default;
    }
}

internal sealed class AsyncRequestHandler<TSelf, TRequest, TResponse>(Func<TSelf, TRequest, Context, ValueTask<TResponse>> handler)
    : ChannelHandler(typeof(TRequest), isRequest: true, isAsync: true)
    where TSelf : Target
{
    public override ValueTask Invoke(Target target, Envelope envelope, in Context context)
    {
        ValueTask<TResponse> pending = handler(Unsafe.As<TSelf>(target), Cast<TRequest>(envelope.Payload), context);
        if (pending.IsCompletedSuccessfully)
        {
            Answer(envelope.Reply, context.Cell, pending.Result);
            return default;
        }

        return AwaitAndReply(pending, envelope.Reply, context.Cell);

        static async ValueTask AwaitAndReply(ValueTask<TResponse> pending, ReplySink? reply, TargetCell cell)
        {
            TResponse response = await pending;
            Answer(reply, cell, response);
        }
    }
}

internal sealed class DeferredHandler<TSelf, TRequest, TResponse>(Action<TSelf, TRequest, ReplyToken<TResponse>, Context> handler)
    : ChannelHandler(typeof(TRequest), isRequest: true, isAsync: false)
    where TSelf : Target
{
    public override ValueTask Invoke(Target target, Envelope envelope, in Context context)
    {
        var token = new ReplyToken<TResponse>(envelope.Reply ?? new DiscardSink(), envelope.Sender, context.Cell);
        handler(Unsafe.As<TSelf>(target), Cast<TRequest>(envelope.Payload), token, context);
        return default;
    }
}
