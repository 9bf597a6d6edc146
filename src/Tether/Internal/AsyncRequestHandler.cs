using System.Runtime.CompilerServices;

namespace Tether.Internal;

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
