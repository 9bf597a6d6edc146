namespace Tether.Skin;

/// <summary>
/// One element of a declarative view: a type (<c>stack</c>, <c>heading</c>, <c>text</c>, <c>field</c>, <c>button</c>,
/// <c>form</c>, <c>table</c>, <c>row</c>, <c>list</c>, <c>item</c>, <c>tabs</c>, <c>tab</c>, <c>chart</c>), a key unique within its dialog
/// (patches name elements by key), and the properties its type uses. Build them with <see cref="View"/>; change one with
/// <c>with</c>. Sent to the renderer as JSON under the property names in the Tether.Skin README.
/// </summary>
/// <param name="Type">The element's type.</param>
/// <param name="Key">The element's key, unique within its dialog.</param>
public sealed record ViewNode(string Type, string Key)
{
    /// <summary>The text of a heading, text, button or item.</summary>
    public string? Text { get; init; }

    /// <summary>A field's or tab's label.</summary>
    public string? Label { get; init; }

    /// <summary>A field's value.</summary>
    public string? Value { get; init; }

    /// <summary>A field's validation message, shown at the field; null when valid.</summary>
    public string? Error { get; init; }

    /// <summary>A field's input type: <c>text</c> (default), <c>number</c>, <c>password</c>, <c>email</c>.</summary>
    public string? Input { get; init; }

    /// <summary>
    /// For a field: send <c>input</c> events as the user types, after this many milliseconds without a keystroke
    /// (a debounce); 0 sends none (the value travels with its form's <c>submit</c>).
    /// </summary>
    public int Live { get; init; }

    /// <summary>A table's column headings.</summary>
    public IReadOnlyList<string>? Columns { get; init; }

    /// <summary>A row's cells, in column order.</summary>
    public IReadOnlyList<string>? Cells { get; init; }

    /// <summary>A table's current page, from 1 (0: no pager).</summary>
    public int Page { get; init; }

    /// <summary>A table's page size.</summary>
    public int PageSize { get; init; }

    /// <summary>A table's total row count over all pages.</summary>
    public int Total { get; init; }

    /// <summary>A chart's values, oldest first.</summary>
    public IReadOnlyList<double>? Values { get; init; }

    /// <summary>The key of the active tab of a tabs element.</summary>
    public string? Active { get; init; }

    /// <summary>The children: a stack's or form's elements, a table's rows, a list's items, a tabs element's tabs, a tab's content.</summary>
    public IReadOnlyList<ViewNode>? Children { get; init; }
}
