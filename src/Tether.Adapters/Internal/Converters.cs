using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Reflection;

namespace Tether.Adapters.Internal;

/// <summary>
/// Chooses and builds conversions between text, numbers, dates/times, enums, booleans, Guids, mapped messages and
/// lists of them, once per mapped field. Formats and cultures are explicit; the culture defaults to the invariant one.
/// </summary>
internal static class Converters
{
    private static readonly MethodInfo s_parseNumber = Method(nameof(ParseNumber));
    private static readonly MethodInfo s_numberToNumber = Method(nameof(NumberToNumber));
    private static readonly MethodInfo s_toList = Method(nameof(ToList));

    /// <summary>The default text format of each date/time type: round-trip forms.</summary>
    public static string DefaultFormat(Type type) => type == typeof(DateOnly) ? "yyyy-MM-dd"
        : type == typeof(TimeOnly) ? "HH:mm:ss.FFFFFFF"
        : type == typeof(TimeSpan) ? "c"
        : "O";

    public static CultureInfo Culture(string? name)
        => name is null || string.Equals(name, "invariant", StringComparison.OrdinalIgnoreCase) ? CultureInfo.InvariantCulture : CultureInfo.GetCultureInfo(name);

    public static Conversion? Create(Type from, Type to, string? format, string? cultureName, Func<Type, Type, MapStage?> findMap, out string? error)
    {
        error = null;
        Type source = Nullable.GetUnderlyingType(from) ?? from;
        Type target = Nullable.GetUnderlyingType(to) ?? to;
        CultureInfo culture = Culture(cultureName);
        string cultureWords = cultureName is null ? "invariant culture" : $"culture {cultureName}";
        if (to.IsAssignableFrom(from) || target.IsAssignableFrom(source))
        {
            return new Conversion(null, "copied");
        }

        if (source == typeof(string))
        {
            if (TypeNames.IsNumeric(target))
            {
                bool integer = target != typeof(float) && target != typeof(double) && target != typeof(decimal) && target != typeof(Half);
                NumberStyles style = integer ? NumberStyles.Integer | NumberStyles.AllowThousands : NumberStyles.Float | NumberStyles.AllowThousands;
                var parse = (Func<string, NumberStyles, IFormatProvider, object?>)s_parseNumber.MakeGenericMethod(target)
                    .CreateDelegate(typeof(Func<string, NumberStyles, IFormatProvider, object?>));
                string friendly = TypeNames.Friendly(target);
                return new Conversion(
                    (object value, out object? result, out string? failure) =>
                    {
                        result = parse((string)value, style, culture);
                        failure = result is null ? $"it is not a number that fits in {A(friendly)} ({cultureWords})" : null;
                        return result is not null;
                    },
                    $"text read as {A(friendly)} ({cultureWords})");
            }

            if (TypeNames.IsDateTime(target))
            {
                string pattern = format ?? DefaultFormat(target);
                return new Conversion(
                    (object value, out object? result, out string? failure) =>
                    {
                        result = ParseDate((string)value, target, pattern, culture);
                        failure = result is null ? $"it is not {A(target.Name)} in the format {pattern} ({cultureWords})" : null;
                        return result is not null;
                    },
                    $"text read as {A(target.Name)} in the format {pattern} ({cultureWords})");
            }

            if (target.IsEnum)
            {
                string names = string.Join(", ", Enum.GetNames(target));
                return new Conversion(
                    (object value, out object? result, out string? failure) =>
                    {
                        string text = (string)value;
                        object? parsed = null;
                        bool ok = text.Length > 0 && !char.IsDigit(text[0]) && text[0] is not ('-' or '+') && Enum.TryParse(target, text, ignoreCase: true, out parsed);
                        result = ok ? parsed : null;
                        failure = ok ? null : $"it is not one of {names}";
                        return ok;
                    },
                    $"text read as a {target.Name} name");
            }

            if (target == typeof(bool))
            {
                return new Conversion(
                    (object value, out object? result, out string? failure) =>
                    {
                        bool ok = bool.TryParse((string)value, out bool b);
                        result = ok ? b : null;
                        failure = ok ? null : "it is neither true nor false";
                        return ok;
                    },
                    "text read as true/false");
            }

            if (target == typeof(Guid))
            {
                return new Conversion(
                    (object value, out object? result, out string? failure) =>
                    {
                        bool ok = Guid.TryParse((string)value, out Guid g);
                        result = ok ? g : null;
                        failure = ok ? null : "it is not a Guid";
                        return ok;
                    },
                    "text read as a Guid");
            }
        }

        if (target == typeof(string))
        {
            if (TypeNames.IsNumeric(source) || TypeNames.IsDateTime(source) || source == typeof(Guid))
            {
                string? pattern = format ?? (TypeNames.IsDateTime(source) ? DefaultFormat(source) : null);
                string words = pattern is null ? $"written as text ({cultureWords})" : $"written as text in the format {pattern} ({cultureWords})";
                return new Conversion(
                    (object value, out object? result, out string? failure) =>
                    {
                        failure = null;
                        result = ((IFormattable)value).ToString(pattern, culture);
                        return true;
                    },
                    words);
            }

            if (source == typeof(bool))
            {
                return new Conversion(
                    (object value, out object? result, out string? failure) =>
                    {
                        failure = null;
                        result = (bool)value ? "true" : "false";
                        return true;
                    },
                    "written as true/false");
            }

            if (source.IsEnum)
            {
                return new Conversion(
                    (object value, out object? result, out string? failure) =>
                    {
                        failure = null;
                        result = value.ToString();
                        return true;
                    },
                    $"written as the {source.Name} name");
            }
        }

        if (TypeNames.IsNumeric(source) && TypeNames.IsNumeric(target))
        {
            var convert = (Func<object, object?>)s_numberToNumber.MakeGenericMethod(source, target).CreateDelegate(typeof(Func<object, object?>));
            string friendly = TypeNames.Friendly(target);
            return new Conversion(
                (object value, out object? result, out string? failure) =>
                {
                    result = convert(value);
                    failure = result is null ? $"it does not fit in {A(friendly)} exactly" : null;
                    return result is not null;
                },
                $"converted to {A(friendly)} (must fit exactly)");
        }

        if (findMap(source, target) is { } map)
        {
            return new Conversion(
                (object value, out object? result, out string? failure) =>
                {
                    failure = null;
                    result = map.Apply(value);
                    return true;
                },
                $"mapped by the contract {map.TargetName}");
        }

        if (TypeNames.ItemType(source) is { } sourceItem && TypeNames.ItemType(target) is { } targetItem && ListFactory(target, targetItem) is { } factory)
        {
            Conversion? item = Create(sourceItem, targetItem, format, cultureName, findMap, out error);
            if (item is null)
            {
                return null;
            }

            var toList = (Func<IEnumerable, ValueConverter?, bool, (object? List, string? Failure)>)s_toList.MakeGenericMethod(targetItem)
                .CreateDelegate(typeof(Func<IEnumerable, ValueConverter?, bool, (object?, string?)>));
            bool array = factory;
            return new Conversion(
                (object value, out object? result, out string? failure) =>
                {
                    (result, failure) = toList((IEnumerable)value, item.Convert, array);
                    return failure is null;
                },
                $"each item {item.Words}");
        }

        error = $"there is no conversion from {TypeNames.Friendly(from)} to {TypeNames.Friendly(to)}"
            + (TypeNames.IsDateTime(source) || TypeNames.IsDateTime(target) || TypeNames.IsNumeric(source) || TypeNames.IsNumeric(target) || source == typeof(string)
                ? "; conversions go between text, numbers and dates/times"
                : "; declare a mapFrom between the two message types");
        return null;
    }

    private static string A(string noun) => noun.Length > 0 && "aeiouAEIOU".Contains(noun[0], StringComparison.Ordinal) ? $"an {noun}" : $"a {noun}";

    /// <summary>True for an array destination, false for a list; null when the destination is no list type we can build.</summary>
    private static bool? ListFactory(Type target, Type item)
    {
        if (target.IsArray)
        {
            return true;
        }

        Type list = typeof(List<>).MakeGenericType(item);
        return target.IsAssignableFrom(list) ? false : null;
    }

    private static (object? List, string? Failure) ToList<T>(IEnumerable source, ValueConverter? convert, bool array)
    {
        var list = new List<T>();
        int index = 0;
        foreach (object? item in source)
        {
            object? converted = item;
            if (item is not null && convert is not null && !convert(item, out converted, out string? failure))
            {
                return (null, $"item {index}: {failure}");
            }

            list.Add((T)converted!);
            index++;
        }

        return (array ? list.ToArray() : list, null);
    }

    private static object? ParseNumber<T>(string text, NumberStyles style, IFormatProvider culture)
        where T : INumber<T>
        => T.TryParse(text, style, culture, out T? value) ? value : null;

    private static object? NumberToNumber<TFrom, TTo>(object value)
        where TFrom : INumber<TFrom>
        where TTo : INumber<TTo>
    {
        var typed = (TFrom)value;
        if (!TFrom.IsInteger(typed) && TTo.IsInteger(TTo.Zero))
        {
            return null; // 2.5 into an int would lose the fraction silently
        }

        try
        {
            TTo result = TTo.CreateChecked(typed);
            return TFrom.CreateChecked(result) == typed || !TFrom.IsFinite(typed) ? result : null;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static object? ParseDate(string text, Type type, string format, CultureInfo culture)
    {
        if (type == typeof(DateTime))
        {
            return DateTime.TryParseExact(text, format, culture, DateTimeStyles.RoundtripKind, out DateTime d) ? d : null;
        }

        if (type == typeof(DateTimeOffset))
        {
            return DateTimeOffset.TryParseExact(text, format, culture, DateTimeStyles.AssumeUniversal, out DateTimeOffset d) ? d : null;
        }

        if (type == typeof(DateOnly))
        {
            return DateOnly.TryParseExact(text, format, culture, DateTimeStyles.None, out DateOnly d) ? d : null;
        }

        if (type == typeof(TimeOnly))
        {
            return TimeOnly.TryParseExact(text, format, culture, DateTimeStyles.None, out TimeOnly t) ? t : null;
        }

        return TimeSpan.TryParseExact(text, format, culture, out TimeSpan span) ? span : null;
    }

    private static MethodInfo Method(string name) => typeof(Converters).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;
}
