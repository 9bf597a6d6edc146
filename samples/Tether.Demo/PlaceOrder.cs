namespace Tether.Demo;

/// <summary>
/// Places an order (service <see cref="DemoApp.OrdersService"/>, the order desk). Contract <c>demo.place-order</c>: a
/// quantity of 1 to 100 and a valid <see cref="ShipTo"/>; a message that breaks it is refused at the mailbox with
/// <see cref="ErrorCodes.ContractViolation"/> naming the field (for example <c>shipTo.postalCode</c>). The desk hands
/// each order to a working target, which asks the supplier for the product and records the order there.
/// </summary>
/// <param name="ProductId">The product ordered.</param>
/// <param name="Quantity">How many (1 to 100).</param>
/// <param name="ShipTo">Where it goes.</param>
public sealed record PlaceOrder(long ProductId, int Quantity, ShipTo? ShipTo) : IRequest<OrderReceipt>;
