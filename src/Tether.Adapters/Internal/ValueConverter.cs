namespace Tether.Adapters.Internal;

/// <summary>Converts one non-null value; false with <paramref name="failure"/> in words when the value cannot be converted.</summary>
internal delegate bool ValueConverter(object value, out object? result, out string? failure);
