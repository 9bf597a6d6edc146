using System.Runtime.CompilerServices;

namespace Tether.Internal;

internal sealed class AsyncSendHandler<TSelf, TMessage>(Func<TSelf, TMessage, Context, ValueTask> handler)
    : ChannelHandler(typeof(TMessage), isRequest: false, isAsync: true)
    where TSelf : Target
{
    public override ValueTask Invoke(Target target, Envelope envelope, in Context context)
        => handler(Unsafe.As<TSelf>(target), Cast<TMessage>(envelope.Payload), context);
}
