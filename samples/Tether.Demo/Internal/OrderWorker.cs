namespace Tether.Demo.Internal;

/// <summary>
/// A working target for one order: asks the supplier for the product, records the order there, answers the deferred
/// reply and ends itself. Tethered to the desk that spawned it (it ends if the desk does). Whatever fails, the requester
/// gets exactly one outcome: the receipt or the supplier's error, unchanged.
/// </summary>
internal sealed class OrderWorker(PlaceOrder order, ReplyToken<OrderReceipt> reply) : Target, ITarget<OrderWorker>
{
    private readonly PlaceOrder _order = order;
    private readonly ReplyToken<OrderReceipt> _reply = reply;

    public static void Wire(Channels<OrderWorker> channels) => channels
        .OnAsync<Go>(static async (self, m, ctx) =>
        {
            try
            {
                PlaceOrder order = self._order;
                Product product = await ctx.Request(DemoApp.SupplierService, new GetProduct(order.ProductId));
                if (product.Stock < order.Quantity)
                {
                    // Fail fast with the level the customer sees; the supplier's atomic check below still decides races.
                    self._reply.TryFail(DemoErrors.OutOfStock, $"Product {product.Id} ({product.Name}) has {product.Stock} in stock; {order.Quantity} were ordered. Nothing was recorded.");
                    return;
                }

                OrderRecorded recorded = await ctx.Request(DemoApp.SupplierService, new RecordOrder(order.ProductId, order.Quantity, order.ShipTo));
                self._reply.TryReply(new OrderReceipt(
                    recorded.OrderId, product.Id, product.Name, order.Quantity, recorded.UnitPrice, recorded.UnitPrice * order.Quantity, recorded.StockLeft));
            }
            catch (TetherException ex)
            {
                self._reply.TryFail(ex.Code, ex.Message);
            }
            finally
            {
                ctx.EndSelf();
            }
        });

    protected override void OnStarted(Context context) => context.Send(context.Self, Go.Instance);

    /// <summary>Starts the work as the first message, so it runs as a turn (OnStarted may not await).</summary>
    internal sealed record Go
    {
        public static readonly Go Instance = new();
    }
}
