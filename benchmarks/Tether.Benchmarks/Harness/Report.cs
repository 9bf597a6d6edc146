using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tether.Benchmarks.Harness;

/// <summary>The medians of one scenario on one framework (null when it failed or was not run).</summary>
internal sealed record Result(Scenario Scenario, string Framework, IReadOnlyList<double> Samples, string? Error, int Hangs)
{
    public double? Median => Error is null && Samples.Count > 0 ? Measure.Median(Samples) : null;

    /// <summary>Half the range of the samples relative to the median: a rough noise figure.</summary>
    public double? Spread => Median is { } m && m != 0 && Samples.Count > 1 ? (Samples.Max() - Samples.Min()) / 2 / Math.Abs(m) : null;
}

/// <summary>Writes the table and the JSON file.</summary>
internal static class Report
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The transport alone (NATS.Net without a runtime): a ceiling to compare with, not a peer.</summary>
    public const string Ceiling = "nats-raw";

    /// <summary>A bare mailbox without any of the runtime's guarantees (<c>FloorBench</c>): a ceiling to compare with, not a peer.</summary>
    public const string Floor = "floor";

    /// <summary>Frameworks that are references to compare with (a column "tether / X" each), never the best peer.</summary>
    private static readonly string[] s_references = [Ceiling, Floor];

    public static bool IsReference(string framework) => s_references.Contains(framework);

    public static string Table(IReadOnlyList<Result> results, IReadOnlyList<string> frameworks)
    {
        var header = new List<string> { "scenario", "unit", "better" };
        header.AddRange(frameworks);
        string[] references = s_references.Where(frameworks.Contains).ToArray();
        header.AddRange(references.Select(r => $"tether / {r}"));
        header.Add("tether vs best peer (direction-adjusted: N× better/worse)");
        var rows = new List<List<string>> { header };
        foreach (IGrouping<Scenario, Result> group in results.GroupBy(r => r.Scenario).OrderBy(g => Scenario.Every.ToList().IndexOf(g.Key)))
        {
            var row = new List<string> { group.Key.Name, group.Key.Unit, group.Key.Better == Better.Higher ? "higher" : "lower" };
            foreach (string framework in frameworks)
            {
                Result? r = group.FirstOrDefault(x => x.Framework == framework);
                row.Add(r switch
                {
                    null => "-",
                    { Error: not null } => "failed",
                    { Median: { } m } => Format(m)
                        + (r.Spread is { } s ? string.Create(CultureInfo.InvariantCulture, $" ±{s * 100:0}%") : string.Empty)
                        + (r.Hangs > 0 ? $" ({r.Hangs} hang{(r.Hangs > 1 ? "s" : string.Empty)})" : string.Empty),
                    _ => "-",
                });
            }

            double? t = group.FirstOrDefault(x => x.Framework == "tether")?.Median;
            foreach (string reference in references)
            {
                double? c = group.FirstOrDefault(x => x.Framework == reference)?.Median;
                row.Add(t is > 0 && c is > 0 ? string.Create(CultureInfo.InvariantCulture, $"{t.Value / c.Value:0.00}") : "-");
            }

            row.Add(Verdict(group.ToList()));
            rows.Add(row);
        }

        int[] widths = Enumerable.Range(0, header.Count).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        for (int i = 0; i < rows.Count; i++)
        {
            text.AppendLine(string.Join("  ", rows[i].Select((cell, c) => c == rows[i].Count - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
            if (i == 0)
            {
                text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
            }
        }

        return text.ToString();
    }

    /// <summary>"1.70× better (vs protoactor)": how tether's median compares with the best peer's, whichever direction is good.</summary>
    public static string Verdict(IReadOnlyList<Result> results)
    {
        double? tether = results.FirstOrDefault(r => r.Framework == "tether")?.Median;
        Result[] peers = results.Where(r => r.Framework != "tether" && !IsReference(r.Framework) && r.Median is > 0).ToArray();
        if (tether is not { } t || peers.Length == 0 || t <= 0)
        {
            return "-";
        }

        Better better = results[0].Scenario.Better;
        Result best = better == Better.Higher ? peers.MaxBy(p => p.Median!.Value)! : peers.MinBy(p => p.Median!.Value)!;
        double b = best.Median!.Value;
        double advantage = better == Better.Higher ? t / b : b / t; // > 1 means tether is better
        string verdict = advantage >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{advantage:0.00}× better")
            : string.Create(CultureInfo.InvariantCulture, $"{1 / advantage:0.00}× worse");
        return $"{verdict} (vs {best.Framework})";
    }

    public static string Format(double value)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        double a = Math.Abs(value);
        return a switch
        {
            >= 1e6 => string.Create(inv, $"{value / 1e6:0.00} M"),
            >= 1e4 => value.ToString("N0", inv),
            >= 100 => value.ToString("0", inv),
            >= 10 => value.ToString("0.0", inv),
            _ => value.ToString("0.000", inv),
        };
    }

    public static void WriteJson(string path, IReadOnlyList<Result> results)
    {
        var rows = results
            .Where(r => r.Median is not null)
            .Select(r => new JsonRow(r.Scenario.Name, r.Framework, r.Median!.Value, r.Scenario.Unit))
            .ToArray();
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, JsonSerializer.Serialize(rows, s_json) + Environment.NewLine);
    }

    private sealed record JsonRow(
        [property: System.Text.Json.Serialization.JsonPropertyName("scenario")] string Scenario,
        [property: System.Text.Json.Serialization.JsonPropertyName("framework")] string Framework,
        [property: System.Text.Json.Serialization.JsonPropertyName("value")] double Value,
        [property: System.Text.Json.Serialization.JsonPropertyName("unit")] string Unit);
}
