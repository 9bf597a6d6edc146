using System.Globalization;

namespace Tether.Adapters.Internal;

/// <summary>Turns a spec's literal text (invariant culture) into a value of a field's type, at bind time.</summary>
internal static class Literals
{
    public static bool TryParse(string text, Type type, out object? value, out string? error)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        error = null;
        value = null;
        CultureInfo invariant = CultureInfo.InvariantCulture;
        bool ok;
        if (type == typeof(string))
        {
            value = text;
            return true;
        }

        if (type.IsEnum)
        {
            ok = !IsNumberStart(text) && Enum.TryParse(type, text, ignoreCase: true, out value);
            if (!ok)
            {
                error = $"'{text}' is not a {type.Name}; the values are {string.Join(", ", Enum.GetNames(type))}";
            }

            return ok;
        }

        if (type == typeof(bool))
        {
            ok = bool.TryParse(text, out bool b);
            value = b;
        }
        else if (type == typeof(Guid))
        {
            ok = Guid.TryParse(text, out Guid g);
            value = g;
        }
        else if (type == typeof(DateTimeOffset))
        {
            ok = DateTimeOffset.TryParse(text, invariant, DateTimeStyles.AssumeUniversal, out DateTimeOffset d);
            value = d;
        }
        else if (type == typeof(DateTime))
        {
            ok = DateTime.TryParse(text, invariant, DateTimeStyles.RoundtripKind, out DateTime d);
            value = d;
        }
        else if (type == typeof(DateOnly))
        {
            ok = DateOnly.TryParse(text, invariant, out DateOnly d);
            value = d;
        }
        else if (type == typeof(TimeOnly))
        {
            ok = TimeOnly.TryParse(text, invariant, out TimeOnly t);
            value = t;
        }
        else if (type == typeof(TimeSpan))
        {
            ok = TimeSpan.TryParse(text, invariant, out TimeSpan t);
            value = t;
        }
        else if (type == typeof(char))
        {
            ok = text.Length == 1;
            value = ok ? text[0] : null;
        }
        else if (TypeNames.IsNumeric(type))
        {
            try
            {
                value = type == typeof(decimal)
                    ? decimal.Parse(text, NumberStyles.Float, invariant)
                    : type == typeof(double) || type == typeof(float) || type == typeof(Half)
                        ? Convert.ChangeType(double.Parse(text, NumberStyles.Float, invariant), type, invariant)
                        : Convert.ChangeType(long.Parse(text, NumberStyles.Integer, invariant), type, invariant);
                ok = true;
            }
            catch (Exception ex) when (ex is FormatException or OverflowException or InvalidCastException)
            {
                ok = false;
            }
        }
        else
        {
            error = $"a {TypeNames.Friendly(type)} cannot be written as a literal in a spec";
            return false;
        }

        if (!ok)
        {
            error = $"'{text}' is not a valid {TypeNames.Friendly(type)}";
        }

        return ok;
    }

    private static bool IsNumberStart(string text) => text.Length > 0 && (char.IsDigit(text[0]) || text[0] is '-' or '+');
}
