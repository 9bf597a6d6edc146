using System.Collections;
using System.Collections.Frozen;
using System.Globalization;
using System.Linq.Expressions;
using System.Text.RegularExpressions;

namespace Tether.Adapters.Internal;

/// <summary>What broke, before it is named with the message type: the path inside the message, the rule and the value.</summary>
internal sealed record Violation(string Path, string Rule, string Value, string Detail, RuleSpec Spec);

/// <summary>
/// One compiled rule. <see cref="Validate"/> returns null when the message passes, and allocates nothing then;
/// the violation (the slow path) is described only when a rule breaks.
/// </summary>
internal abstract class Check(RuleSpec spec, bool sensitive)
{
    public RuleSpec Spec { get; } = spec;

    protected bool Sensitive { get; } = sensitive;

    public abstract Violation? Validate(object message);

    /// <summary>The rule as an inline "passes" expression on the typed message, or null to call <see cref="Validate"/> instead.</summary>
    public virtual Expression? Inline(Expression root, List<ParameterExpression> variables) => null;

    protected Violation Fail(object? value, string detail, string? path = null)
        => new(path ?? Spec.Path, RuleWords.Short(Spec), Sensitive ? "(masked: sensitive field)" : ValueText.Of(value), detail, Spec);
}

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

internal sealed class RequiredCheck<T>(RuleSpec spec, bool sensitive, PathGetter<T> get) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out T value))
        {
            return Fail(null, "the field is missing");
        }

        return value is string { Length: 0 } ? Fail(value, "the text is empty") : null;
    }

    public override Expression? Inline(Expression root, List<ParameterExpression> variables)
        => FastPath.Access(root, Spec.Path, whenMissing: false, v => v.Type == typeof(string) ? Expression.GreaterThan(Expression.Property(v, "Length"), Expression.Constant(0)) : Expression.Constant(true), variables);
}

internal sealed class RangeCheck<T>(RuleSpec spec, bool sensitive, PathGetter<T> get, bool hasMin, T min, bool hasMax, T max) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out T value))
        {
            return null;
        }

        if ((value is double d && double.IsNaN(d)) || (value is float f && float.IsNaN(f)))
        {
            return Fail(value, "NaN is not in any range");
        }

        if (hasMin && Comparer<T>.Default.Compare(value, min) < 0)
        {
            return Fail(value, $"it is less than the minimum {ValueText.Of(min)}");
        }

        if (hasMax && Comparer<T>.Default.Compare(value, max) > 0)
        {
            return Fail(value, $"it is greater than the maximum {ValueText.Of(max)}");
        }

        return null;
    }

    // NaN fails both comparisons, so it takes the slow path, which names it.
    public override Expression? Inline(Expression root, List<ParameterExpression> variables)
        => FastPath.Access(root, Spec.Path, whenMissing: true, v =>
        {
            Expression low = hasMin ? FastPath.Compare(v, Expression.Constant(min, typeof(T)), ExpressionType.GreaterThanOrEqual) : Expression.Constant(true);
            Expression high = hasMax ? FastPath.Compare(v, Expression.Constant(max, typeof(T)), ExpressionType.LessThanOrEqual) : Expression.Constant(true);
            return Expression.AndAlso(low, high);
        }, variables);
}

internal sealed class LengthCheck(RuleSpec spec, bool sensitive, PathGetter<string> get, int min, int max) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out string text))
        {
            return null;
        }

        if (text.Length < min)
        {
            return Fail(text, $"it has {text.Length} characters, fewer than the minimum {min}");
        }

        return text.Length > max ? Fail(text, $"it has {text.Length} characters, more than the maximum {max}") : null;
    }

    public override Expression? Inline(Expression root, List<ParameterExpression> variables)
        => FastPath.Access(root, Spec.Path, whenMissing: true, v =>
        {
            Expression length = Expression.Property(v, "Length");
            return Expression.AndAlso(Expression.GreaterThanOrEqual(length, Expression.Constant(min)), Expression.LessThanOrEqual(length, Expression.Constant(max)));
        }, variables);
}

internal sealed class PatternCheck(RuleSpec spec, bool sensitive, PathGetter<string> get, Regex regex) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out string text))
        {
            return null;
        }

        try
        {
            return regex.IsMatch(text) ? null : Fail(text, $"it does not match the pattern {Spec.Pattern}");
        }
        catch (RegexMatchTimeoutException)
        {
            return Fail(text, $"matching the pattern {Spec.Pattern} took too long; simplify the pattern or send shorter text");
        }
    }
}

internal sealed class OneOfCheck<T>(RuleSpec spec, bool sensitive, PathGetter<T> get, FrozenSet<T> allowed) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out T value))
        {
            return null;
        }

        return allowed.Contains(value) ? null : Fail(value, $"it is not one of {string.Join(", ", Spec.Values ?? [])}");
    }

    // A few values: a chain of equality tests beats hashing the value.
    public override Expression? Inline(Expression root, List<ParameterExpression> variables)
    {
        if (allowed.Count > 8)
        {
            return null;
        }

        try
        {
            return FastPath.Access(root, Spec.Path, whenMissing: true, v => allowed.Aggregate(
                (Expression)Expression.Constant(false),
                (any, value) => Expression.OrElse(any, Expression.Equal(v, Expression.Constant(value, typeof(T))))), variables);
        }
        catch (InvalidOperationException)
        {
            return null; // no == operator for T: the set decides
        }
    }
}

internal sealed class CountCheck<TCollection>(RuleSpec spec, bool sensitive, PathGetter<TCollection> get, Func<TCollection, int> count, int min, int max)
    : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out TCollection collection))
        {
            return null;
        }

        int n = count(collection);
        if (n < min)
        {
            return Fail(collection, $"it has {n} items, fewer than the minimum {min}");
        }

        return n > max ? Fail(collection, $"it has {n} items, more than the maximum {max}") : null;
    }
}

internal sealed class EachCheck<TItem>(RuleSpec spec, bool sensitive, PathGetter<IEnumerable<TItem>> get, Check[] itemChecks) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out IEnumerable<TItem> items))
        {
            return null;
        }

        if (items is IReadOnlyList<TItem> list)
        {
            for (int i = 0; i < list.Count; i++)
            {
                if (ValidateItem(list[i], i) is { } violation)
                {
                    return violation;
                }
            }

            return null;
        }

        int index = 0;
        foreach (TItem item in items)
        {
            if (ValidateItem(item, index++) is { } violation)
            {
                return violation;
            }
        }

        return null;
    }

    private Violation? ValidateItem(TItem item, int index)
    {
        if (item is null)
        {
            // A null item breaks only a rule that requires the item itself.
            foreach (Check check in itemChecks)
            {
                if (check.Spec is { Kind: RuleKind.Required, Path.Length: 0 })
                {
                    return Fail(null, "the item is missing (null)", $"{Spec.Path}[{index}]");
                }
            }

            return null;
        }

        object boxed = item;
        foreach (Check check in itemChecks)
        {
            if (check.Validate(boxed) is { } violation)
            {
                return violation with { Path = Join($"{Spec.Path}[{index}]", violation.Path) };
            }
        }

        return null;
    }

    private static string Join(string prefix, string path) => path.Length == 0 ? prefix : $"{prefix}.{path}";
}

/// <summary>A contract resolved after every contract is compiled, so nested contracts may refer to each other in any order.</summary>
internal sealed class ContractRef(string name)
{
    public string Name { get; } = name;

    public CompiledContract? Contract { get; set; }
}

internal sealed class NestedCheck<T>(RuleSpec spec, bool sensitive, PathGetter<T> get, ContractRef nested) : Check(spec, sensitive)
    where T : class
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out T value))
        {
            return null;
        }

        Violation? violation = nested.Contract!.Validate(value);
        if (violation is null)
        {
            return null;
        }

        string path = Spec.Path.Length == 0 ? violation.Path : violation.Path.Length == 0 ? Spec.Path : $"{Spec.Path}.{violation.Path}";
        return Sensitive ? violation with { Path = path, Value = "(masked: sensitive field)" } : violation with { Path = path };
    }
}

internal sealed class CompareCheck<T>(RuleSpec spec, bool sensitive, CompareExpression expression, Func<object, (bool Present, T Value)> left, Func<object, (bool Present, T Value)> right)
    : Check(spec, sensitive)
{
    private static readonly IComparer<T> s_comparer = typeof(T) == typeof(string) ? (IComparer<T>)(object)StringComparer.Ordinal : Comparer<T>.Default;

    public override Violation? Validate(object message)
    {
        (bool hasLeft, T a) = left(message);
        (bool hasRight, T b) = right(message);
        if (!hasLeft || !hasRight)
        {
            return null; // absence is the business of 'required'
        }

        int order = s_comparer.Compare(a, b);
        bool holds = expression.Operator switch
        {
            "==" => order == 0,
            "!=" => order != 0,
            "<" => order < 0,
            "<=" => order <= 0,
            ">" => order > 0,
            _ => order >= 0,
        };
        if (holds)
        {
            return null;
        }

        string path = expression.Left.Path ?? expression.Right.Path!;
        string detail = Sensitive
            ? $"{expression} does not hold"
            : $"{expression.Left} is {ValueText.Of(a)} and {expression.Right} is {ValueText.Of(b)}";
        return Fail(a, detail, path);
    }

    public override Expression? Inline(Expression root, List<ParameterExpression> variables)
    {
        if (!expression.Left.IsField || !expression.Right.IsField || typeof(T) == typeof(string))
        {
            return null;
        }

        ExpressionType op = expression.Operator switch
        {
            "==" => ExpressionType.Equal,
            "!=" => ExpressionType.NotEqual,
            "<" => ExpressionType.LessThan,
            "<=" => ExpressionType.LessThanOrEqual,
            ">" => ExpressionType.GreaterThan,
            _ => ExpressionType.GreaterThanOrEqual,
        };
        return FastPath.Access(root, expression.Left.Path!, whenMissing: true, l => FastPath.Access(root, expression.Right.Path!, whenMissing: true, r =>
            FastPath.Compare(l.Type == typeof(T) ? l : Expression.Convert(l, typeof(T)), r.Type == typeof(T) ? r : Expression.Convert(r, typeof(T)), op), variables), variables);
    }
}

internal sealed class CustomCheck<T>(RuleSpec spec, bool sensitive, PathGetter<T> get, Func<T, bool> predicate) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out T value))
        {
            return null;
        }

        try
        {
            return predicate(value) ? null : Fail(value, $"the predicate '{Spec.Predicate}' does not hold");
        }
#pragma warning disable CA1031 // a predicate that throws rejects the message; it never takes the mailbox down
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Fail(value, $"the predicate '{Spec.Predicate}' threw {ex.GetType().Name}: {ex.Message}");
        }
    }
}
