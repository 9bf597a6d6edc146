using System.Collections;
using System.Globalization;

namespace Tether.Adapters.Internal;

internal static class ValueText
{
    private const int MaxLength = 80;

    public static string Of(object? value) => value switch
    {
        null => "missing",
        string s => Quote(s),
        DateTime d => d.ToString(d.Ticks % TimeSpan.TicksPerSecond == 0 ? "s" : "O", CultureInfo.InvariantCulture),
        DateTimeOffset d => d.ToString("O", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        ICollection c => $"a list of {c.Count} items",
        IEnumerable => "a list",
        _ => Cut(value.ToString() ?? value.GetType().Name),
    };

    private static string Quote(string s) => s.Length > MaxLength ? $"\"{s[..MaxLength]}…\" ({s.Length} characters)" : $"\"{s}\"";

    private static string Cut(string s) => s.Length > MaxLength ? s[..MaxLength] + "…" : s;
}
