namespace Tether.Skin;

/// <summary>
/// Builds declarative views for <see cref="Dialog.Render"/> and <see cref="ViewPatch"/>.
/// </summary>
/// <example>
/// <code>
/// View.Stack("root",
///     View.Heading("title", "Orders"),
///     View.Form("order",
///         View.Field("quantity", "Quantity", input: "number"),
///         View.Button("place", "Place order")),
///     View.Table("lines", ["Product", "Qty"], lines.Select(l => View.Row(l.Id, l.Name, l.Qty.ToString())), page: 1, pageSize: 20, total: count))
/// </code>
/// </example>
public static class View
{
    /// <summary>Elements one below the other.</summary>
    public static ViewNode Stack(string key, params IEnumerable<ViewNode> children) => Node("stack", key) with { Children = [.. children] };

    /// <summary>A heading.</summary>
    public static ViewNode Heading(string key, string text) => Node("heading", key) with { Text = text };

    /// <summary>A paragraph of text.</summary>
    public static ViewNode Text(string key, string text) => Node("text", key) with { Text = text };

    /// <summary>
    /// An input field with a label and room for its validation message. <paramref name="live"/> &gt; 0 sends <c>input</c>
    /// events while the user types, debounced by that many milliseconds.
    /// </summary>
    public static ViewNode Field(string key, string label, string value = "", string? error = null, string input = "text", int live = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(live);
        return Node("field", key) with { Label = label, Value = value, Error = error, Input = input, Live = live };
    }

    /// <summary>A button; a click sends a <c>click</c> event with its key (inside a form, it submits the form).</summary>
    public static ViewNode Button(string key, string text) => Node("button", key) with { Text = text };

    /// <summary>A form: submitting it (a button inside, or Enter) sends one <c>submit</c> event with every field's value.</summary>
    public static ViewNode Form(string key, params IEnumerable<ViewNode> children) => Node("form", key) with { Children = [.. children] };

    /// <summary>
    /// A table of rows (<see cref="Row"/>). With <paramref name="page"/> &gt; 0 it shows a pager that sends <c>page</c> events.
    /// </summary>
    public static ViewNode Table(string key, IReadOnlyList<string> columns, IEnumerable<ViewNode> rows, int page = 0, int pageSize = 0, int total = 0)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        return Node("table", key) with { Columns = columns, Children = [.. rows], Page = page, PageSize = pageSize, Total = total };
    }

    /// <summary>A table row; its key lets a patch replace just this row.</summary>
    public static ViewNode Row(string key, params IEnumerable<string> cells) => Node("row", key) with { Cells = [.. cells] };

    /// <summary>A list of items (<see cref="Item"/>).</summary>
    public static ViewNode List(string key, params IEnumerable<ViewNode> items) => Node("list", key) with { Children = [.. items] };

    /// <summary>A list item.</summary>
    public static ViewNode Item(string key, string text) => Node("item", key) with { Text = text };

    /// <summary>Tabs (<see cref="Tab"/>); <paramref name="active"/> is the key of the one shown. Choosing another sends a <c>tab</c> event.</summary>
    public static ViewNode Tabs(string key, string active, params IEnumerable<ViewNode> tabs) => Node("tabs", key) with { Active = active, Children = [.. tabs] };

    /// <summary>One tab: its label and content.</summary>
    public static ViewNode Tab(string key, string label, params IEnumerable<ViewNode> content) => Node("tab", key) with { Label = label, Children = [.. content] };

    /// <summary>A small line chart of <paramref name="values"/> (oldest first) under a label, with the latest value shown; replace it to update.</summary>
    public static ViewNode Chart(string key, string label, IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Node("chart", key) with { Label = label, Values = [.. values] };
    }

    private static ViewNode Node(string type, string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return new ViewNode(type, key);
    }
}
