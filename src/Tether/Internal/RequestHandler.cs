using System.Runtime.CompilerServices;

namespace Tether.Internal;

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
