using System.Globalization;
using System.Text.Json;

namespace Tether.Skin.Internal;

/// <summary>
/// Reads one frame from a renderer: <c>open</c>, <c>event</c>, <c>close</c> or <c>pong</c>. Anything else is refused with
/// a text that names what is wrong and where, for the error frame the browser gets.
/// </summary>
internal static class BrowserFrames
{
    public const int MaxFormFields = 200;

    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 4, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>The frame is a pong (or nothing to do).</summary>
    public static readonly object Pong = new();

    /// <summary>Parses a frame; returns the message for the client target, <see cref="Pong"/>, or null with <paramref name="error"/>.</summary>
    public static object? Parse(ReadOnlyMemory<byte> frame, out string error)
    {
        error = "";
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(frame, s_options);
        }
        catch (JsonException ex)
        {
            error = $"The frame is not JSON: {ex.Message}";
            return null;
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = $"A frame must be a JSON object; this one is {Describe(root.ValueKind)}.";
                return null;
            }

            if (!root.TryGetProperty("t", out JsonElement t) || t.ValueKind != JsonValueKind.String)
            {
                error = "A frame needs \"t\", its type as a string (open, event, close, pong).";
                return null;
            }

            switch (t.GetString())
            {
                case "pong":
                    return Pong;
                case "open":
                    string? dialog = String(root, "dialog", required: true, ref error);
                    string? reference = String(root, "ref", required: false, ref error);
                    string? argument = String(root, "arg", required: false, ref error);
                    return error.Length > 0 ? null : new BrowserOpen(reference, dialog!, argument);
                case "close":
                    int closeId = DialogId(root, ref error);
                    return error.Length > 0 ? null : new BrowserClose(closeId);
                case "event":
                    return ParseEvent(root, out error);
                default:
                    error = $"Unknown frame type \"{Clip(t.GetString())}\"; a renderer sends open, event, close or pong.";
                    return null;
            }
        }
    }

    private static BrowserEvent? ParseEvent(JsonElement root, out string error)
    {
        error = "";
        int id = DialogId(root, ref error);
        string? kind = String(root, "kind", required: true, ref error);
        string? key = String(root, "key", required: true, ref error);
        string? value = null;
        if (root.TryGetProperty("value", out JsonElement v))
        {
            value = v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Number => v.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Null => null,
                _ => Fail(ref error, $"event.value must be a string, number or boolean, not {Describe(v.ValueKind)}."),
            };
        }

        Dictionary<string, string>? form = null;
        if (root.TryGetProperty("form", out JsonElement f) && f.ValueKind != JsonValueKind.Null)
        {
            if (f.ValueKind != JsonValueKind.Object)
            {
                error = $"event.form must be an object of field → text, not {Describe(f.ValueKind)}.";
                return null;
            }

            form = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty field in f.EnumerateObject())
            {
                if (form.Count == MaxFormFields)
                {
                    error = $"event.form has more than {MaxFormFields} fields.";
                    return null;
                }

                if (field.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
                {
                    error = $"event.form.{Clip(field.Name)} must be text, not {Describe(field.Value.ValueKind)}.";
                    return null;
                }

                form[field.Name] = field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString()! : field.Value.GetRawText();
            }
        }

        return error.Length > 0 ? null : new BrowserEvent(id, new UiEvent(kind!, key!, value, form));
    }

    private static int DialogId(JsonElement root, ref string error)
    {
        if (error.Length > 0)
        {
            return 0;
        }

        if (!root.TryGetProperty("d", out JsonElement d) || d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int id) || id <= 0)
        {
            error = "\"d\" must be the dialog's id, a positive integer the server gave in \"opened\".";
            return 0;
        }

        return id;
    }

    private static string? String(JsonElement root, string name, bool required, ref string error)
    {
        if (error.Length > 0)
        {
            return null;
        }

        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                error = $"\"{name}\" is required and must be a string.";
            }

            return null;
        }

        if (e.ValueKind != JsonValueKind.String)
        {
            error = $"\"{name}\" must be a string, not {Describe(e.ValueKind)}.";
            return null;
        }

        return e.GetString();
    }

    private static string? Fail(ref string error, string text)
    {
        error = text;
        return null;
    }

    private static string Describe(JsonValueKind kind) => kind.ToString().ToLower(CultureInfo.InvariantCulture) switch
    {
        "object" => "an object",
        "array" => "an array",
        "undefined" => "nothing",
        string k => $"a {k}",
    };

    private static string Clip(string? s) => s is null ? "" : s.Length <= 40 ? s : s[..40] + "...";
}
