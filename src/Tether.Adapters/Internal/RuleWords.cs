namespace Tether.Adapters.Internal;

/// <summary>Rules in words: the short form named in errors, and the plain sentence of <c>tether contracts explain</c>.</summary>
internal static class RuleWords
{
    public static string KeyOf(RuleKind kind) => kind switch
    {
        RuleKind.Required => "required",
        RuleKind.Range => "range",
        RuleKind.Length => "length",
        RuleKind.Pattern => "pattern",
        RuleKind.OneOf => "oneOf",
        RuleKind.Compare => "check",
        RuleKind.Count => "count",
        RuleKind.Each => "each",
        RuleKind.Nested => "contract",
        RuleKind.Custom => "custom",
        _ => kind.ToString(),
    };

    /// <summary>The rule as named in a violation: <c>range 1..100</c>, <c>check end &gt;= start</c>.</summary>
    public static string Short(RuleSpec rule) => rule.Kind switch
    {
        RuleKind.Required => "required",
        RuleKind.Range or RuleKind.Length or RuleKind.Count => $"{KeyOf(rule.Kind)} {rule.Min}..{rule.Max}",
        RuleKind.Pattern => $"pattern {rule.Pattern}",
        RuleKind.OneOf => $"oneOf [{string.Join(", ", rule.Values ?? [])}]",
        RuleKind.Compare => $"check {rule.Expression}",
        RuleKind.Nested => $"contract {rule.Contract}",
        RuleKind.Custom => $"custom {rule.Predicate}",
        _ => KeyOf(rule.Kind),
    };

    /// <summary>The rule as a sentence: "quantity is between 1 and 100".</summary>
    public static string Sentence(RuleSpec rule, string subject)
    {
        string it = subject.Length == 0 ? "the item" : subject;
        string sentence = rule.Kind switch
        {
            RuleKind.Required => $"{it} is required (present; text not empty)",
            RuleKind.Range => $"{it} is {Bounds(rule, "", "")}",
            RuleKind.Length => $"{it} has {Bounds(rule, " characters", "")}",
            RuleKind.Count => $"{it} has {Bounds(rule, " items", "")}",
            RuleKind.Pattern => $"{it} matches the regular expression {rule.Pattern}",
            RuleKind.OneOf => $"{it} is one of {string.Join(", ", rule.Values ?? [])}",
            RuleKind.Compare => CompareSentence(rule.Expression ?? ""),
            RuleKind.Each => $"every item of {it} (when present) meets:",
            RuleKind.Nested => $"{it} meets the rules of the contract {rule.Contract}",
            RuleKind.Custom => subject.Length == 0
                ? $"the predicate '{rule.Predicate}' (registered in code) holds for the whole message"
                : $"the predicate '{rule.Predicate}' (registered in code) holds for {it}",
            _ => rule.Kind.ToString(),
        };
        bool optional = rule.Kind is not (RuleKind.Required or RuleKind.Compare or RuleKind.Each) && subject.Length > 0;
        return optional ? sentence + " (when present)" : sentence;
    }

    private static string Bounds(RuleSpec rule, string unit, string none)
    {
        if (rule.Min is not null && rule.Max is not null)
        {
            return string.Equals(rule.Min, rule.Max, StringComparison.Ordinal) ? $"exactly {rule.Min}{unit}" : $"between {rule.Min} and {rule.Max}{unit} inclusive";
        }

        return rule.Min is not null ? $"at least {rule.Min}{unit}" : rule.Max is not null ? $"at most {rule.Max}{unit}" : none;
    }

    private static string CompareSentence(string expression)
    {
        CompareExpression? parsed = CompareExpression.TryParse(expression, out _);
        if (parsed is null)
        {
            return $"the check {expression} holds";
        }

        string op = parsed.Operator switch
        {
            "==" => "equals",
            "!=" => "differs from",
            "<" => "is less than",
            "<=" => "is less than or equal to",
            ">" => "is greater than",
            _ => "is greater than or equal to",
        };
        return $"{parsed.Left} {op} {parsed.Right} (checked when both are present)";
    }
}
