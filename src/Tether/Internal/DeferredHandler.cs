using System.Runtime.CompilerServices;

namespace Tether.Internal;

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
