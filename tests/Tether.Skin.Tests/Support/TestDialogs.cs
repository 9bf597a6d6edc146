using System.Globalization;

namespace Tether.Skin.Tests.Support;

public sealed record Signup(string Name, int Age) : IRequest<string>;

/// <summary>The service a signup form sends to; its contract (age 18..120) is checked at its mailbox.</summary>
public sealed class Registry : Target, ITarget<Registry>
{
    public static void Wire(Channels<Registry> channels) => channels
        .Request<Signup, string>(static (self, m, ctx) => $"Welcome, {m.Name}");
}

/// <summary>A button that counts, and a toast per click.</summary>
public sealed class CounterDialog : Dialog, ITarget<CounterDialog>
{
    private readonly List<double> _history = [0];
    private int _count;

    public static void Wire(Channels<CounterDialog> channels) => channels.Dialog();

    protected override ValueTask OnMountAsync(DialogMount mount, Context ctx)
    {
        Render(ctx, View.Stack("root",
            View.Heading("title", "Counter"),
            View.Text("count", _count.ToString(CultureInfo.InvariantCulture)),
            View.Text("session", ctx.SessionToken is null ? "anonymous" : $"signed in with {ctx.SessionToken}"),
            View.Button("add", "Add"),
            View.Button("close", "Close"),
            View.Chart("history", "Clicks", _history)));
        return default;
    }

    protected override ValueTask OnEventAsync(UiEvent e, Context ctx)
    {
        switch (e)
        {
            case { Kind: "click", Key: "add" }:
                _count++;
                _history.Add(_count);
                Patch(ctx, new ViewPatch()
                    .SetText("count", _count.ToString(CultureInfo.InvariantCulture))
                    .Replace(View.Chart("history", "Clicks", _history))
                    .Toast($"Added, now {_count}", ToastLevel.Success));
                break;
            case { Kind: "click", Key: "close" }:
                Close(ctx);
                break;
        }

        return default;
    }
}

/// <summary>A paged table in a tab; "bump" changes one row and sends only that row.</summary>
public sealed class TableDialog : Dialog, ITarget<TableDialog>
{
    public const int Rows = 25;
    public const int PageSize = 10;
    private readonly int[] _quantities = new int[Rows + 1];
    private int _page = 1;

    public static void Wire(Channels<TableDialog> channels) => channels.Dialog();

    protected override ValueTask OnMountAsync(DialogMount mount, Context ctx)
    {
        Render(ctx, View.Stack("root",
            View.Heading("title", "Stock"),
            View.Tabs("tabs", "stock",
                View.Tab("stock", "Stock", Table(), View.Button("bump", "Bump item 3")),
                View.Tab("about", "About", View.Text("about-text", "A table with paging"), View.List("notes", View.Item("n1", "keyed rows"), View.Item("n2", "one row per change"))))));
        return default;
    }

    protected override ValueTask OnEventAsync(UiEvent e, Context ctx)
    {
        switch (e)
        {
            case { Kind: "click", Key: "bump" }:
                _quantities[3]++;
                Patch(ctx, new ViewPatch().Replace(Row(3)));
                break;
            case { Kind: "page", Key: "items" } when int.TryParse(e.Value, CultureInfo.InvariantCulture, out int page):
                _page = Math.Clamp(page, 1, (Rows + PageSize - 1) / PageSize);
                Patch(ctx, new ViewPatch().Replace(Table()));
                break;
        }

        return default;
    }

    private ViewNode Table()
    {
        int first = ((_page - 1) * PageSize) + 1;
        int last = Math.Min(Rows, first + PageSize - 1);
        return View.Table("items", ["Item", "Quantity"], Enumerable.Range(first, last - first + 1).Select(Row), _page, PageSize, Rows);
    }

    private ViewNode Row(int i) => View.Row($"row-{i}", $"Item {i}", _quantities[i].ToString(CultureInfo.InvariantCulture));
}

/// <summary>Search as you type: a live field (debounced in the browser) and a list of matches.</summary>
public sealed class SearchDialog : Dialog, ITarget<SearchDialog>
{
    private static readonly string[] s_words = ["apple", "apricot", "banana", "blueberry", "cherry", "grape", "lemon", "mango"];

    public static int InputEvents;

    public static void Wire(Channels<SearchDialog> channels) => channels.Dialog();

    protected override ValueTask OnMountAsync(DialogMount mount, Context ctx)
    {
        Render(ctx, View.Stack("root", View.Field("q", "Search", live: 300), Results("")));
        return default;
    }

    protected override ValueTask OnEventAsync(UiEvent e, Context ctx)
    {
        if (e is { Kind: "input", Key: "q" })
        {
            Interlocked.Increment(ref InputEvents);
            Patch(ctx, new ViewPatch().Replace(Results(e.Value ?? "")));
        }

        return default;
    }

    private static ViewNode Results(string q)
        => View.List("results", s_words.Where(w => w.StartsWith(q, StringComparison.Ordinal)).Select(w => View.Item("w-" + w, w)));
}

/// <summary>A form whose message meets a declarative contract at the service: a violation shows at its field.</summary>
public sealed class SignupDialog : Dialog, ITarget<SignupDialog>
{
    public static void Wire(Channels<SignupDialog> channels) => channels.Dialog();

    protected override ValueTask OnMountAsync(DialogMount mount, Context ctx)
    {
        Render(ctx, View.Form("signup", View.Field("name", "Name"), View.Field("age", "Age", input: "number"), View.Button("save", "Sign up")));
        return default;
    }

    protected override async ValueTask OnEventAsync(UiEvent e, Context ctx)
    {
        if (e is not { Kind: "submit", Key: "signup" })
        {
            return;
        }

        if (!int.TryParse(e.Field("age"), CultureInfo.InvariantCulture, out int age))
        {
            Patch(ctx, new ViewPatch().SetField("age", null, "Age must be a whole number."));
            return;
        }

        try
        {
            string answer = await ctx.Request("registry", new Signup(e.Field("name"), age));
            Patch(ctx, new ViewPatch().SetField("age", null, null).Toast(answer, ToastLevel.Success));
        }
        catch (TetherException ex)
        {
            ShowError(ctx, ex);
        }
    }
}

/// <summary>The test's own login dialog (the demo's real one asks the session manager): password "secret" signs in.</summary>
public sealed class LoginDialog : Dialog, ITarget<LoginDialog>
{
    public static void Wire(Channels<LoginDialog> channels) => channels.Dialog();

    protected override ValueTask OnMountAsync(DialogMount mount, Context ctx)
    {
        Render(ctx, View.Form("login", View.Field("user", "User"), View.Field("password", "Password", input: "password"), View.Button("signin", "Sign in")));
        return default;
    }

    protected override ValueTask OnEventAsync(UiEvent e, Context ctx)
    {
        if (e is { Kind: "submit" })
        {
            if (e.Field("password") != "secret")
            {
                Patch(ctx, new ViewPatch().SetField("password", "", "Wrong user or password."));
                return default;
            }

            SignIn(ctx, "token-" + e.Field("user"));
            Open(ctx, "counter");
            Close(ctx);
        }

        return default;
    }
}
