using System.Buffers;
using System.Text.Json;
using Tether.Skin.Internal;

namespace Tether.Skin;

/// <summary>
/// Keyed changes to a dialog's view, applied by the renderer in order: replace one element (a table row, a field), set
/// a field's value or error, append, remove, show a toast. Send it with <see cref="Dialog.Patch"/>: a change to one row
/// sends that row, not the page.
/// </summary>
public sealed class ViewPatch
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _writer;
    private int _count;

    /// <summary>Creates an empty patch.</summary>
    public ViewPatch()
    {
        _writer = new Utf8JsonWriter(_buffer);
        _writer.WriteStartArray();
    }

    /// <summary>How many operations the patch holds.</summary>
    public int Count => _count;

    /// <summary>Replaces the whole view of the dialog.</summary>
    public ViewPatch Render(ViewNode view) => Op("render", w => ViewJson.WriteNode(w, "node", view));

    /// <summary>Replaces the element with the same key as <paramref name="node"/>. The renderer updates an element of the same
    /// type in place where it can (children matched by key), so a row the user is clicking or a field with focus is kept.</summary>
    public ViewPatch Replace(ViewNode node) => Op("replace", w =>
    {
        w.WriteString("key", node.Key);
        ViewJson.WriteNode(w, "node", node);
    });

    /// <summary>Sets a field's value (when not null) and its validation message (null clears it).</summary>
    public ViewPatch SetField(string key, string? value, string? error) => Op("set", w =>
    {
        w.WriteString("key", key);
        if (value is not null)
        {
            w.WriteString("value", value);
        }

        w.WriteString("error", error);
    });

    /// <summary>Sets the text of a heading, text, button or item.</summary>
    public ViewPatch SetText(string key, string text) => Op("set", w =>
    {
        w.WriteString("key", key);
        w.WriteString("text", text);
    });

    /// <summary>Appends <paramref name="node"/> to the children of the element keyed <paramref name="parent"/>.</summary>
    public ViewPatch Append(string parent, ViewNode node) => Op("append", w =>
    {
        w.WriteString("parent", parent);
        ViewJson.WriteNode(w, "node", node);
    });

    /// <summary>Removes the element keyed <paramref name="key"/>.</summary>
    public ViewPatch Remove(string key) => Op("remove", w => w.WriteString("key", key));

    /// <summary>Shows a toast that disappears by itself.</summary>
    public ViewPatch Toast(string text, ToastLevel level = ToastLevel.Info) => Op("toast", w =>
    {
        w.WriteString("text", text);
        w.WriteString("level", level switch { ToastLevel.Success => "success", ToastLevel.Error => "error", _ => "info" });
    });

    /// <summary>The operations as the JSON array the renderer reads; the patch is empty afterwards, ready for reuse.</summary>
    public string ToJson()
    {
        _writer.WriteEndArray();
        _writer.Flush();
        string json = System.Text.Encoding.UTF8.GetString(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
        _writer.Reset();
        _writer.WriteStartArray();
        _count = 0;
        return json;
    }

    private ViewPatch Op(string op, Action<Utf8JsonWriter> write)
    {
        _writer.WriteStartObject();
        _writer.WriteString("op", op);
        write(_writer);
        _writer.WriteEndObject();
        _count++;
        return this;
    }
}
