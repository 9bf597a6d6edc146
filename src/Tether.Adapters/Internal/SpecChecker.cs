using System.Globalization;
using System.Text.RegularExpressions;

namespace Tether.Adapters.Internal;

/// <summary>
/// The checks a contract spec must pass without its CLR type: names, bounds, patterns, comparisons, duplicates.
/// Shared by the YAML reader and the C# builder, so both fail the same way; binding to CLR types checks the rest.
/// </summary>
internal static class SpecChecker
{
    public static void Check(ContractSpec spec, List<SpecError> errors)
    {
        if (!SpecNames.IsContractName(spec.Message))
        {
            errors.Add(new(spec.Location, $"message name '{spec.Message}' is not valid: use ASCII letters, digits, '_', '-' and '.', starting with a letter, at most 200 characters (for example Orders.PlaceOrder)"));
        }

        if ((spec.Enforce & Enforcement.Both) == 0 || (spec.Enforce & ~Enforcement.Both) != 0)
        {
            errors.Add(new(spec.Location, $"{spec.Message}: enforce must be input, output or both"));
        }

        foreach (string path in spec.Sensitive)
        {
            if (!SpecNames.IsPath(path))
            {
                errors.Add(new(spec.Location, $"{spec.Message}: sensitive field '{path}' is not a field path (names joined by dots)"));
            }
        }

        var defaults = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (DefaultSpec entry in spec.Defaults)
        {
            if (!SpecNames.IsIdentifier(entry.Field))
            {
                errors.Add(new(entry.Location ?? spec.Location, $"{spec.Message}: default for '{entry.Field}': defaults apply to top-level fields; write the field name alone (no dots)"));
            }
            else if (!defaults.Add(entry.Field))
            {
                errors.Add(new(entry.Location ?? spec.Location, $"{spec.Message}: field '{entry.Field}' has two defaults"));
            }
        }

        foreach (RuleSpec rule in spec.Rules)
        {
            CheckRule(spec.Message, rule, inEach: false, spec.Location, errors);
        }

        var sources = new HashSet<string>(StringComparer.Ordinal);
        foreach (MapSpec map in spec.MapFrom)
        {
            SpecLocation? at = map.Location ?? spec.Location;
            if (!SpecNames.IsContractName(map.From))
            {
                errors.Add(new(at, $"{spec.Message}: mapFrom message '{map.From}' is not a valid contract name"));
            }
            else if (string.Equals(map.From, spec.Message, StringComparison.Ordinal))
            {
                errors.Add(new(at, $"{spec.Message}: a message cannot map from itself; use defaults to fill its own fields"));
            }
            else if (!sources.Add(map.From))
            {
                errors.Add(new(at, $"{spec.Message}: two mappings from {map.From}; merge them into one"));
            }

            var fields = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (FieldMapSpec field in map.Fields)
            {
                SpecLocation? fieldAt = field.Location ?? at;
                string where = $"{spec.Message}: mapping from {map.From}, field '{field.Field}'";
                if (!SpecNames.IsIdentifier(field.Field))
                {
                    errors.Add(new(fieldAt, $"{where}: the destination must be a top-level field name (no dots)"));
                }
                else if (!fields.Add(field.Field))
                {
                    errors.Add(new(fieldAt, $"{where}: the field is mapped twice"));
                }

                if (field.From is not null && !SpecNames.IsPath(field.From))
                {
                    errors.Add(new(fieldAt, $"{where}: from '{field.From}' is not a field path (names joined by dots)"));
                }

                if (field.Ignore && (field.From is not null || field.Default is not null || field.Format is not null))
                {
                    errors.Add(new(fieldAt, $"{where}: an ignored field takes no from, default or format"));
                }

                if (field.Format is { Length: 0 })
                {
                    errors.Add(new(fieldAt, $"{where}: format is empty; remove it or write a .NET format such as yyyy-MM-dd"));
                }

                if (field.Culture is not null && !CultureExists(field.Culture))
                {
                    errors.Add(new(fieldAt, $"{where}: culture '{field.Culture}' is not known; use a name such as en-US or de-DE, or invariant"));
                }
            }
        }
    }

    /// <summary>Two contracts for one message type are an error, never a silent override.</summary>
    public static void CheckDuplicates(IEnumerable<ContractSpec> specs, List<SpecError> errors)
    {
        var seen = new Dictionary<string, ContractSpec>(StringComparer.Ordinal);
        foreach (ContractSpec spec in specs)
        {
            if (seen.TryGetValue(spec.Message, out ContractSpec? first))
            {
                string firstAt = first.Location?.ToString() ?? "code";
                errors.Add(new(spec.Location, $"{spec.Message} already has a contract ({firstAt}); a message type has exactly one contract: merge the two"));
                continue;
            }

            seen.Add(spec.Message, spec);
        }
    }

    public static bool CultureExists(string name)
    {
        if (string.Equals(name, "invariant", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        try
        {
            _ = CultureInfo.GetCultureInfo(name);
            return true;
        }
        catch (CultureNotFoundException)
        {
            // In globalization-invariant mode every named culture is refused: the name cannot be judged there.
            return GlobalizationInvariant;
        }
    }

    private static bool GlobalizationInvariant { get; } = IsGlobalizationInvariant();

    private static bool IsGlobalizationInvariant()
    {
        try
        {
            return CultureInfo.GetCultureInfo("en-US").Name.Length == 0;
        }
        catch (CultureNotFoundException)
        {
            return true;
        }
    }

    private static void CheckRule(string message, RuleSpec rule, bool inEach, SpecLocation? fallback, List<SpecError> errors)
    {
        SpecLocation? at = rule.Location ?? fallback;
        string name = RuleWords.KeyOf(rule.Kind);
        string where = rule.Path.Length == 0 ? $"{message}: {name}" : $"{message}: {name} on '{rule.Path}'";
        if (rule.Path.Length > 0 && !SpecNames.IsPath(rule.Path))
        {
            errors.Add(new(at, $"{where}: '{rule.Path}' is not a field path (names joined by dots)"));
        }

        bool needsField = rule.Kind is not (RuleKind.Custom or RuleKind.Compare);
        if (needsField && rule.Path.Length == 0 && !inEach)
        {
            errors.Add(new(at, $"{message}: the {name} rule needs a field: add 'field: NAME'"));
        }

        switch (rule.Kind)
        {
            case RuleKind.Range:
                CheckRange(rule, where, at, errors);
                break;
            case RuleKind.Length:
            case RuleKind.Count:
                CheckCounts(rule, where, at, errors);
                break;
            case RuleKind.Pattern:
                if (string.IsNullOrEmpty(rule.Pattern))
                {
                    errors.Add(new(at, $"{where}: the pattern is empty"));
                }
                else
                {
                    try
                    {
                        _ = new Regex(rule.Pattern, RegexOptions.CultureInvariant);
                    }
                    catch (ArgumentException ex)
                    {
                        errors.Add(new(at, $"{where}: the pattern is not a valid regular expression: {ex.Message}"));
                    }
                }

                break;
            case RuleKind.OneOf:
                if (rule.Values is null || rule.Values.Count == 0)
                {
                    errors.Add(new(at, $"{where}: oneOf needs at least one value"));
                }

                break;
            case RuleKind.Compare:
                if (rule.Path.Length > 0)
                {
                    errors.Add(new(at, $"{where}: a check names its fields in the expression; remove 'field'"));
                }

                if (string.IsNullOrWhiteSpace(rule.Expression))
                {
                    errors.Add(new(at, $"{message}: the check is empty; write a comparison such as 'end >= start'"));
                }
                else if (CompareExpression.TryParse(rule.Expression, out string? problem) is null)
                {
                    errors.Add(new(at, $"{message}: check: {problem}"));
                }

                break;
            case RuleKind.Each:
                if (rule.Rules is null || rule.Rules.Count == 0)
                {
                    errors.Add(new(at, $"{where}: each needs at least one rule for the items"));
                }
                else
                {
                    foreach (RuleSpec inner in rule.Rules)
                    {
                        CheckRule($"{message} ({rule.Path}[])", inner, inEach: true, at, errors);
                    }
                }

                break;
            case RuleKind.Nested:
                if (rule.Contract is null || !SpecNames.IsContractName(rule.Contract))
                {
                    errors.Add(new(at, $"{where}: contract '{rule.Contract}' is not a valid contract name"));
                }

                break;
            case RuleKind.Custom:
                if (string.IsNullOrWhiteSpace(rule.Predicate) || rule.Predicate.Any(char.IsWhiteSpace))
                {
                    errors.Add(new(at, $"{where}: custom needs the name of a predicate registered in code (no spaces)"));
                }

                break;
            default:
                break;
        }
    }

    private static void CheckRange(RuleSpec rule, string where, SpecLocation? at, List<SpecError> errors)
    {
        if (rule.Min is null && rule.Max is null)
        {
            errors.Add(new(at, $"{where}: a range needs min, max or both"));
            return;
        }

        if (rule.Min is null || rule.Max is null)
        {
            return;
        }

        bool reversed = decimal.TryParse(rule.Min, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal lowNumber)
            && decimal.TryParse(rule.Max, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal highNumber)
            ? lowNumber > highNumber
            : DateTimeOffset.TryParse(rule.Min, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset lowDate)
              && DateTimeOffset.TryParse(rule.Max, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset highDate)
              && lowDate > highDate;
        if (reversed)
        {
            errors.Add(new(at, $"{where}: min {rule.Min} is greater than max {rule.Max}; no value could pass"));
        }
    }

    private static void CheckCounts(RuleSpec rule, string where, SpecLocation? at, List<SpecError> errors)
    {
        if (rule.Min is null && rule.Max is null)
        {
            errors.Add(new(at, $"{where}: needs min, max or both"));
            return;
        }

        int? low = ParseCount(rule.Min, "min", where, at, errors);
        int? high = ParseCount(rule.Max, "max", where, at, errors);
        if (low > high)
        {
            errors.Add(new(at, $"{where}: min {low} is greater than max {high}; no value could pass"));
        }
    }

    private static int? ParseCount(string? text, string name, string where, SpecLocation? at, List<SpecError> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
        {
            errors.Add(new(at, $"{where}: {name} '{text}' must be a whole number, 0 or more"));
            return null;
        }

        return value;
    }
}
