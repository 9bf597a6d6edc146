namespace Tether.Adapters.Internal;

/// <summary>A conversion chosen at bind time: null <see cref="Convert"/> means the value passes as it is.</summary>
internal sealed record Conversion(ValueConverter? Convert, string Words);
