using System.Collections;

namespace Tether.Adapters.Internal;

/// <summary>Type names as a user reads them in C# (int, string, list of Item), for error texts.</summary>
internal static class TypeNames
{
    public static string Friendly(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Friendly(underlying) + "?";
        }

        if (type == typeof(string))
        {
            return "string";
        }

        if (type == typeof(int))
        {
            return "int";
        }

        if (type == typeof(long))
        {
            return "long";
        }

        if (type == typeof(bool))
        {
            return "bool";
        }

        if (type == typeof(double))
        {
            return "double";
        }

        if (type == typeof(decimal))
        {
            return "decimal";
        }

        if (type == typeof(float))
        {
            return "float";
        }

        if (type == typeof(object))
        {
            return "object";
        }

        if (ItemType(type) is { } item)
        {
            return $"list of {Friendly(item)}";
        }

        return type.Name;
    }

    /// <summary>The item type of a collection (not of a string), or null.</summary>
    public static Type? ItemType(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>))
        {
            return type.GetGenericArguments()[0];
        }

        Type? enumerable = type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0] ?? (typeof(IEnumerable).IsAssignableFrom(type) ? typeof(object) : null);
    }

    public static bool IsNumeric(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte)
            || type == typeof(sbyte) || type == typeof(ushort) || type == typeof(uint) || type == typeof(ulong)
            || type == typeof(float) || type == typeof(double) || type == typeof(decimal) || type == typeof(Half)
            || type == typeof(Int128) || type == typeof(UInt128);
    }

    public static bool IsDateTime(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(DateOnly) || type == typeof(TimeOnly) || type == typeof(TimeSpan);
    }

    /// <summary>True when null is a possible value (a reference type or Nullable).</summary>
    public static bool CanBeNull(Type type) => !type.IsValueType || Nullable.GetUnderlyingType(type) is not null;
}
