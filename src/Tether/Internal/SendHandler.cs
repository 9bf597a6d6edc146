using System.Runtime.CompilerServices;

namespace Tether.Internal;

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
