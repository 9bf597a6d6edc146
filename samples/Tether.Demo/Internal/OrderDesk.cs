using Microsoft.Extensions.Logging;

namespace Tether.Demo.Internal;

/// <summary>
/// The order desk (service <see cref="DemoApp.OrdersService"/>). It never waits for the supplier itself: it takes each
/// <see cref="PlaceOrder"/>'s reply obligation (<see cref="ReplyToken{T}"/>) and hands it to a fresh
/// <see cref="OrderWorker"/>, so it is free for the next order at once. Contract violations never reach it: the mailbox
/// refuses them (<c>demo.place-order</c>). Nor do orders without a session holding <see cref="DemoApp.OrderRight"/>: the
/// desk declares that right where it wires its channel, and the mailbox verifies it before the handler runs.
/// </summary>
internal sealed class OrderDesk(ILogger logger) : Target, ITarget<OrderDesk>
{
    private readonly ILogger _logger = logger;

    public static void Wire(Channels<OrderDesk> channels) => channels
        .Deferred<PlaceOrder, OrderReceipt>(static (self, m, reply, ctx) => ctx.Spawn(() => new OrderWorker(m, reply)))
        .Requires(DemoApp.OrderRight);

    protected override void OnStarted(Context context) => DemoLog.DeskStarted(_logger, context.Self, context.Node.Name);
}
