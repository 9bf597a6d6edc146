using System.Globalization;
using Tether.Skin;

namespace Tether.Demo.Dialogs;

/// <summary>
/// The catalogue: search as you type (a live field, debounced in the browser) over the supplier's products, a paged
/// table with each product's stock, live stock updates from <see cref="DemoApp.StockTopic"/> (one keyed row patch per
/// change of a visible product), a click on a row opens the order dialog for that product, and a button opens the operator dialog.
/// </summary>
public sealed class CatalogueDialog : Dialog, ITarget<CatalogueDialog>
{
    /// <summary>Rows per page.</summary>
    public const int PageSize = 20;

    private static readonly string[] s_columns = ["Id", "Product", "Category", "Price", "Stock"];
    private readonly Dictionary<long, Product> _visible = [];
    private string _text = "";
    private int _page; // from 0
    private int _total;
    private int _searches; // the latest search wins when answers overtake each other

    /// <summary>Wires the dialog's channels: the dialog's own and <see cref="StockChanged"/> from the stock topic.</summary>
    public static void Wire(Channels<CatalogueDialog> channels) => channels
        .Dialog()
        .On<StockChanged>(static (self, m, ctx) => self.StockChanged(m, ctx));

    /// <inheritdoc />
    protected override void OnOpened(Context ctx) => ctx.Subscribe(DemoApp.StockTopic);

    /// <inheritdoc />
    protected override async ValueTask OnMountAsync(DialogMount mount, Context ctx)
    {
        Render(ctx, View.Stack("root",
            View.Heading("title", "Catalogue"),
            View.Text("user", ctx.Session is { } s ? $"Signed in as {s.UserName}" : ""),
            View.Field("q", "Search", _text, live: 300),
            View.Text("hint", "Click a product to order it."),
            Table(),
            View.Button("operator", "Operator view")));
        await SearchAsync(ctx);
    }

    /// <inheritdoc />
    protected override async ValueTask OnEventAsync(UiEvent e, Context ctx)
    {
        switch (e)
        {
            case { Kind: "input" or "change", Key: "q" } when e.Kind == "input" || (e.Value ?? "") != _text:
                // Typing always searches (the same text again is a retry); the change event that follows the typing
                // when the field loses focus (as when the user clicks a product row) searches only for a new text: it
                // would redraw the same rows under the user's pointer, and the click could be lost.
                _text = e.Value ?? "";
                _page = 0;
                await SearchAsync(ctx);
                break;
            case { Kind: "page", Key: "products" } when int.TryParse(e.Value, CultureInfo.InvariantCulture, out int page):
                _page = Math.Max(0, page - 1);
                await SearchAsync(ctx);
                break;
            case { Kind: "click", Key: "operator" }:
                Open(ctx, DemoApp.OperatorDialog);
                break;
            case { Kind: "click" } when e.Key.StartsWith("p-", StringComparison.Ordinal)
                && long.TryParse(e.Key.AsSpan(2), CultureInfo.InvariantCulture, out long id) && _visible.ContainsKey(id):
                Open(ctx, DemoApp.OrderDialog, id.ToString(CultureInfo.InvariantCulture));
                break;
        }
    }

    private async Task SearchAsync(Context ctx)
    {
        int search = ++_searches;
        string text = _text;
        try
        {
            ProductPage page = await ctx.Request(DemoApp.SupplierService, new SearchProducts(text, _page, PageSize));
            if (search != _searches)
            {
                return; // a newer search is under way
            }

            _visible.Clear();
            foreach (Product p in page.Items)
            {
                _visible[p.Id] = p;
            }

            _total = page.Total;
            Patch(ctx, new ViewPatch().Replace(Table()).SetText("hint", Hint(text, page.Total)));
        }
        catch (TetherException ex)
        {
            Toast(ctx, $"The catalogue is not available: {ex.Message} ({ex.Code})", ToastLevel.Error);
        }
    }

    private void StockChanged(StockChanged m, Context ctx)
    {
        if (_visible.TryGetValue(m.ProductId, out Product? p))
        {
            p = p with { Stock = m.Stock };
            _visible[p.Id] = p;
            Patch(ctx, new ViewPatch().Replace(Row(p)));
        }
    }

    // The hint names the text searched, so the user (and a test) can see which search the rows show.
    private static string Hint(string text, int total) => (text.Length, total) switch
    {
        (0, _) => $"{total:N0} products. Click one to order it.",
        (_, 0) => $"No product matches \"{text}\".",
        _ => $"{total:N0} products match \"{text}\". Click one to order it.",
    };

    private ViewNode Table()
        => View.Table("products", s_columns, _visible.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Id).Select(Row), _page + 1, PageSize, _total);

    private static ViewNode Row(Product p) => View.Row(
        "p-" + p.Id.ToString(CultureInfo.InvariantCulture),
        p.Id.ToString(CultureInfo.InvariantCulture),
        p.Name,
        p.Category,
        p.Price.ToString("0.00", CultureInfo.InvariantCulture),
        p.Stock.ToString(CultureInfo.InvariantCulture));
}
