using System.Collections.Frozen;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Tether.Adapters.Internal;

// Rules: every rule of a spec becomes a typed check, its field paths compiled to getters.
internal sealed partial class ContractCompiler
{
    private static readonly TimeSpan s_regexTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly MethodInfo s_makeSet = typeof(ContractCompiler).GetMethod(nameof(MakeSet), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo s_fromGetter = typeof(ContractCompiler).GetMethod(nameof(FromGetter), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo s_fromConstant = typeof(ContractCompiler).GetMethod(nameof(FromConstant), BindingFlags.NonPublic | BindingFlags.Static)!;

    private Check? CompileRule(ContractSpec contract, Type root, RuleSpec rule, string prefix)
    {
        string full = Join(prefix, rule.Path);
        bool sensitive = IsSensitive(contract, full);
        string subject = rule.Path.Length == 0 ? (prefix.Length == 0 ? "the message" : $"the items of {prefix}") : $"'{rule.Path}'";
        void Error(string text) => errors.Add(new(rule.Location ?? contract.Location, $"{contract.Message}: {RuleWords.KeyOf(rule.Kind)} on {subject}: {text}"));
        if (rule.Kind == RuleKind.Compare)
        {
            return CompileCompare(contract, root, rule, prefix, Error);
        }

        Type? convertTo = null;
        if (rule.Kind == RuleKind.Custom)
        {
            if (!predicates.TryGetValue(rule.Predicate ?? "", out RegisteredPredicate? registered))
            {
                Error($"no predicate named '{rule.Predicate}' is registered{SpecNames.Suggest(rule.Predicate ?? "", predicates.Keys)}; register it in code with AddPredicate<T>(\"{rule.Predicate}\", ...)");
                return null;
            }

            convertTo = registered.ParameterType;
        }

        CompiledPath? path = PathAccessor.Compile(root, rule.Path, out string? pathError, convertTo);
        if (path is null)
        {
            Error(pathError!);
            return null;
        }

        Type t = path.ValueType;
        switch (rule.Kind)
        {
            case RuleKind.Required:
                return Make(typeof(RequiredCheck<>), t, rule, sensitive, path.Getter);
            case RuleKind.Range:
                if (!IsComparable(t))
                {
                    Error($"a range needs an ordered type (number, date/time, text); {subject} is {TypeNames.Friendly(path.DeclaredType)}");
                    return null;
                }

                object? min = Bound(rule.Min, t, "min", Error);
                object? max = Bound(rule.Max, t, "max", Error);
                if ((rule.Min is not null && min is null) || (rule.Max is not null && max is null))
                {
                    return null;
                }

                object? zero = t.IsValueType ? Activator.CreateInstance(t) : null;
                return Make(typeof(RangeCheck<>), t, rule, sensitive, path.Getter, rule.Min is not null, min ?? zero, rule.Max is not null, max ?? zero);
            case RuleKind.Length:
            case RuleKind.Pattern:
                if (t != typeof(string))
                {
                    string instead = TypeNames.ItemType(t) is not null ? "use count for a list" : "use range for a number or date";
                    Error($"{RuleWords.KeyOf(rule.Kind)} applies to text, and {subject} is {TypeNames.Friendly(path.DeclaredType)}: {instead}");
                    return null;
                }

                if (rule.Kind == RuleKind.Length)
                {
                    return new LengthCheck(rule, sensitive, (PathGetter<string>)path.Getter, Count(rule.Min, 0), Count(rule.Max, int.MaxValue));
                }

                return new PatternCheck(rule, sensitive, (PathGetter<string>)path.Getter, CompileRegex(rule.Pattern!));
            case RuleKind.OneOf:
                var values = new List<object?>();
                foreach (string text in rule.Values ?? [])
                {
                    if (!Literals.TryParse(text, t, out object? value, out string? literalError))
                    {
                        Error($"oneOf value {literalError}");
                        return null;
                    }

                    values.Add(value);
                }

                object set = s_makeSet.MakeGenericMethod(t).Invoke(null, [values])!;
                return Make(typeof(OneOfCheck<>), t, rule, sensitive, path.Getter, set);
            case RuleKind.Count:
                if (TypeNames.ItemType(t) is not { } countItem)
                {
                    Error($"count applies to lists, and {subject} is {TypeNames.Friendly(path.DeclaredType)}{(t == typeof(string) ? ": use length for text" : "")}");
                    return null;
                }

                return Make(typeof(CountCheck<>), t, rule, sensitive, path.Getter, CountFunction(t, countItem), Count(rule.Min, 0), Count(rule.Max, int.MaxValue));
            case RuleKind.Each:
                if (TypeNames.ItemType(t) is not { } item)
                {
                    Error($"each applies to lists, and {subject} is {TypeNames.Friendly(path.DeclaredType)}");
                    return null;
                }

                CompiledPath? items = PathAccessor.Compile(root, rule.Path, out pathError, typeof(IEnumerable<>).MakeGenericType(item));
                if (items is null)
                {
                    Error(pathError!);
                    return null;
                }

                Check[] itemChecks = (rule.Rules ?? []).Select(r => CompileRule(contract, item, r, full)).OfType<Check>().ToArray();
                return Make(typeof(EachCheck<>), item, rule, sensitive, items.Getter, itemChecks);
            case RuleKind.Nested:
                if (!types.TryGetValue(rule.Contract!, out Type? nestedType))
                {
                    Error($"the contract {rule.Contract} has no CLR type registered{SpecNames.Suggest(rule.Contract!, types.Keys)}");
                    return null;
                }

                if (!nestedType.IsAssignableFrom(t) || t.IsValueType)
                {
                    Error($"{subject} is {TypeNames.Friendly(path.DeclaredType)}, not a {rule.Contract} ({nestedType.Name})");
                    return null;
                }

                if (!_refs.TryGetValue(rule.Contract!, out ContractRef? reference))
                {
                    _refs[rule.Contract!] = reference = new ContractRef(rule.Contract!);
                }

                if (!_contracts.ContainsKey(rule.Contract!))
                {
                    Error($"{rule.Contract} is registered but has no contract spec; write one, or remove this rule");
                    return null;
                }

                return Make(typeof(NestedCheck<>), t, rule, sensitive, path.Getter, reference);
            case RuleKind.Custom:
                RegisteredPredicate predicate = predicates[rule.Predicate!];
                return Make(typeof(CustomCheck<>), t, rule, sensitive, path.Getter, predicate.Predicate);
            default:
                return null;
        }
    }

    private Check? CompileCompare(ContractSpec contract, Type root, RuleSpec rule, string prefix, Action<string> error)
    {
        CompareExpression? expression = CompareExpression.TryParse(rule.Expression ?? "", out string? problem);
        if (expression is null)
        {
            error(problem!);
            return null;
        }

        CompiledPath? left = expression.Left.IsField ? PathAccessor.Compile(root, expression.Left.Path!, out problem) : null;
        if (expression.Left.IsField && left is null)
        {
            error(problem!);
            return null;
        }

        CompiledPath? right = expression.Right.IsField ? PathAccessor.Compile(root, expression.Right.Path!, out problem) : null;
        if (expression.Right.IsField && right is null)
        {
            error(problem!);
            return null;
        }

        Type type = (left ?? right)!.ValueType;
        if (left is not null && right is not null && left.ValueType != right.ValueType)
        {
            if (!TypeNames.IsNumeric(left.ValueType) || !TypeNames.IsNumeric(right.ValueType))
            {
                error($"{expression.Left} is {TypeNames.Friendly(left.ValueType)} and {expression.Right} is {TypeNames.Friendly(right.ValueType)}; compare fields of the same type");
                return null;
            }

            type = typeof(double);
            left = PathAccessor.Compile(root, expression.Left.Path!, out _, type);
            right = PathAccessor.Compile(root, expression.Right.Path!, out _, type);
        }

        if (!IsComparable(type))
        {
            error($"{TypeNames.Friendly(type)} values cannot be compared; compare their fields instead");
            return null;
        }

        object? Side(Operand operand, CompiledPath? path)
        {
            if (path is not null)
            {
                return s_fromGetter.MakeGenericMethod(type).Invoke(null, [path.Getter]);
            }

            if (!Literals.TryParse(operand.Literal!, type, out object? value, out string? literalError))
            {
                error(literalError!);
                return null;
            }

            return s_fromConstant.MakeGenericMethod(type).Invoke(null, [value]);
        }

        object? a = Side(expression.Left, left);
        object? b = Side(expression.Right, right);
        if (a is null || b is null)
        {
            return null;
        }

        bool sensitive = (expression.Left.IsField && IsSensitive(contract, Join(prefix, expression.Left.Path!)))
            || (expression.Right.IsField && IsSensitive(contract, Join(prefix, expression.Right.Path!)));
        return Make(typeof(CompareCheck<>), type, rule, sensitive, expression, a, b);
    }

    private static bool IsComparable(Type type)
        => typeof(IComparable).IsAssignableFrom(type) || typeof(IComparable<>).MakeGenericType(type).IsAssignableFrom(type);

    private static object? Bound(string? text, Type type, string name, Action<string> error)
    {
        if (text is null)
        {
            return null;
        }

        if (!Literals.TryParse(text, type, out object? value, out string? literalError))
        {
            error($"{name} {literalError}");
            return null;
        }

        return value;
    }

    private static int Count(string? text, int fallback) => text is null ? fallback : int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private static Regex CompileRegex(string pattern)
    {
        try
        {
            // Linear time whatever the input: hostile text cannot make validation slow.
            return new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        }
        catch (NotSupportedException)
        {
            // Back-references and look-arounds need backtracking: then a timeout bounds the work.
            return new Regex(pattern, RegexOptions.CultureInvariant, s_regexTimeout);
        }
    }

    private static Delegate CountFunction(Type collection, Type item)
    {
        ParameterExpression value = Expression.Parameter(collection, "collection");
        Expression count = collection.IsArray ? Expression.ArrayLength(value)
            : collection.GetProperty("Count") is { PropertyType: var countType } countProperty && countType == typeof(int) ? Expression.Property(value, countProperty)
            : Expression.Call(typeof(Enumerable), nameof(Enumerable.Count), [item], Expression.Convert(value, typeof(IEnumerable<>).MakeGenericType(item)));
        return Expression.Lambda(typeof(Func<,>).MakeGenericType(collection, typeof(int)), count, value).Compile();
    }

    private static Check Make(Type generic, Type argument, params object?[] args)
        => (Check)Activator.CreateInstance(generic.MakeGenericType(argument), args)!;

    private static FrozenSet<T> MakeSet<T>(List<object?> values)
        => values.Cast<T>().ToFrozenSet(typeof(T) == typeof(string) ? (IEqualityComparer<T>)StringComparer.Ordinal : EqualityComparer<T>.Default);

    private static Func<object, (bool, T)> FromGetter<T>(PathGetter<T> getter) => message => (getter(message, out T value), value);

    private static Func<object, (bool, T)> FromConstant<T>(T value) => _ => (true, value);
}
