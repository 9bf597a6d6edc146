namespace Tether.Skin;

/// <summary>
/// A user's action in the browser, delivered to the dialog that drew the element. It carries the client's session token
/// (<see cref="Context.SessionToken"/>; verified on a channel wired with <c>Requires</c>). Like any message, it meets the
/// contracts (adapters) registered for it.
/// </summary>
/// <param name="Kind">What happened: <c>click</c> (a button), <c>input</c> (a live field, debounced), <c>change</c>,
/// <c>submit</c> (a form, with <see cref="Form"/>), <c>key</c> (Enter or Escape in a field), <c>page</c> (a table's pager;
/// <see cref="Value"/> is the page number, from 1), <c>tab</c> (<see cref="Value"/> is the tab's key).</param>
/// <param name="Key">The key of the element it happened on (a button, field, form, table or tabs).</param>
/// <param name="Value">The field's value, the page, the tab or the key pressed; null when the kind has none.</param>
/// <param name="Form">For <c>submit</c>: every field of the form, key → value; otherwise null.</param>
public sealed record UiEvent(string Kind, string Key, string? Value = null, IReadOnlyDictionary<string, string>? Form = null)
{
    /// <summary>A field of a submitted form, or <paramref name="fallback"/> when the form has none by that key.</summary>
    public string Field(string key, string fallback = "")
        => Form is not null && Form.TryGetValue(key, out string? value) ? value : fallback;
}
