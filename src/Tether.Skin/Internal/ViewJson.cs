using System.Text.Json;

namespace Tether.Skin.Internal;

/// <summary>Writes the view model as JSON by hand: property names are the contract, never CLR names.</summary>
internal static class ViewJson
{
    public static void WriteNode(Utf8JsonWriter w, string property, ViewNode node)
    {
        w.WritePropertyName(property);
        WriteNode(w, node);
    }

    public static void WriteNode(Utf8JsonWriter w, ViewNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        w.WriteStartObject();
        w.WriteString("type", node.Type);
        w.WriteString("key", node.Key);
        WriteIf(w, "text", node.Text);
        WriteIf(w, "label", node.Label);
        WriteIf(w, "value", node.Value);
        WriteIf(w, "error", node.Error);
        WriteIf(w, "input", node.Input);
        if (node.Live > 0)
        {
            w.WriteNumber("live", node.Live);
        }

        WriteStrings(w, "columns", node.Columns);
        WriteStrings(w, "cells", node.Cells);
        if (node.Page > 0)
        {
            w.WriteNumber("page", node.Page);
            w.WriteNumber("pageSize", node.PageSize);
            w.WriteNumber("total", node.Total);
        }

        if (node.Values is { } values)
        {
            w.WriteStartArray("values");
            foreach (double v in values)
            {
                w.WriteNumberValue(double.IsFinite(v) ? v : 0);
            }

            w.WriteEndArray();
        }

        WriteIf(w, "active", node.Active);
        if (node.Children is { } children)
        {
            w.WriteStartArray("children");
            foreach (ViewNode child in children)
            {
                WriteNode(w, child);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void WriteIf(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (string v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }
}
