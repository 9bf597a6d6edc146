using System.Globalization;
using Tether.Skin;

namespace Tether.Demo.Dialogs;

/// <summary>
/// Orders one product (its id is the dialog's argument): quantity and ship-to fields; placing the order goes through
/// the order desk (<see cref="DemoApp.OrdersService"/>) with the user's session. A contract violation shows at its
/// field, out of stock as an error, success as a toast. The desk needs the right <see cref="DemoApp.OrderRight"/>: a
/// user without it is told so in the form and in a toast.
/// </summary>
public sealed class OrderDialog : Dialog, ITarget<OrderDialog>
{
    private long _productId;

    /// <summary>Wires the dialog's channels (the right to order is the order desk's to declare: it is checked there).</summary>
    public static void Wire(Channels<OrderDialog> channels) => channels.Dialog();

    /// <inheritdoc />
    protected override async ValueTask OnMountAsync(DialogMount mount, Context ctx)
    {
        _ = long.TryParse(mount.Argument, CultureInfo.InvariantCulture, out _productId);
        string title = $"Order product {_productId}";
        try
        {
            Product p = await ctx.Request(DemoApp.SupplierService, new GetProduct(_productId));
            title = $"Order {p.Name} ({p.Price.ToString("0.00", CultureInfo.InvariantCulture)} each, {p.Stock} in stock)";
        }
        catch (TetherException ex)
        {
            title = $"Product {_productId}: {ex.Message}";
        }

        Render(ctx, View.Stack("root",
            View.Heading("title", title),
            View.Form("order",
                View.Field("quantity", "Quantity", "1", input: "number"),
                View.Field("name", "Name"),
                View.Field("street", "Street"),
                View.Field("city", "City"),
                View.Field("postalCode", "Postal code"),
                View.Field("country", "Country (two letters)", "DE"),
                View.Button("place", "Place order")),
            View.Button("close", "Close"),
            View.Text("result", "")));
    }

    /// <inheritdoc />
    protected override async ValueTask OnEventAsync(UiEvent e, Context ctx)
    {
        if (e is { Kind: "click", Key: "close" })
        {
            Close(ctx);
            return;
        }

        if (e is not { Kind: "submit", Key: "order" })
        {
            return;
        }

        ViewPatch clear = new ViewPatch();
        foreach (string field in (string[])["quantity", "name", "street", "city", "postalCode", "country"])
        {
            clear.SetField(field, null, null);
        }

        Patch(ctx, clear);
        if (!int.TryParse(e.Field("quantity"), CultureInfo.InvariantCulture, out int quantity))
        {
            Patch(ctx, new ViewPatch().SetField("quantity", null, "A whole number, 1 to 100."));
            return;
        }

        var order = new PlaceOrder(_productId, quantity, new ShipTo(e.Field("name"), e.Field("street"), e.Field("city"), e.Field("postalCode"), e.Field("country")));
        try
        {
            OrderReceipt receipt = await ctx.Request(DemoApp.OrdersService, order, TimeSpan.FromSeconds(15));
            string text = string.Create(CultureInfo.InvariantCulture, $"Order {receipt.OrderId} placed: {receipt.Quantity} x {receipt.ProductName}, {receipt.Total:0.00}; {receipt.StockLeft} left.");
            Patch(ctx, new ViewPatch().SetText("result", text).Toast(text, ToastLevel.Success));
        }
        catch (TetherException ex) when (ex.Code == DemoErrors.OutOfStock)
        {
            Patch(ctx, new ViewPatch().SetField("quantity", null, "Out of stock: " + ex.Message).SetText("result", "Not placed: out of stock.").Toast(ex.Message, ToastLevel.Error));
        }
        catch (TetherException ex) when (ex.Code is ErrorCodes.Forbidden or ErrorCodes.Unauthenticated or ErrorCodes.SessionExpired or ErrorCodes.SessionRevoked)
        {
            // The desk's mailbox refused the session: say so where the user looks, with the right it needs.
            string text = ex.Code == ErrorCodes.Forbidden
                ? $"Not placed: your account may not place orders (it needs the right \"{DemoApp.OrderRight}\")."
                : $"Not placed: sign in again ({ex.Code}).";
            Patch(ctx, new ViewPatch().SetText("result", text).Toast($"{text} {ex.Message}", ToastLevel.Error));
        }
        catch (TetherException ex) when (ex.Code == ErrorCodes.ContractViolation && ex is not ContractViolationException && FieldOf(ex.Message) is { } field)
        {
            // A violation raised on another node arrives as code and text: its text names the path.
            Patch(ctx, new ViewPatch().SetField(field, null, ex.Message));
        }
        catch (TetherException ex)
        {
            ShowError(ctx, ex);
        }
    }

    private static string? FieldOf(string text)
    {
        foreach (string field in (string[])["postalCode", "quantity", "country", "street", "city", "name"])
        {
            if (text.Contains(field, StringComparison.Ordinal))
            {
                return field;
            }
        }

        return null;
    }
}
