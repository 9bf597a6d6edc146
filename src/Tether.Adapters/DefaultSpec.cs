namespace Tether.Adapters;

/// <summary>A default: when the top-level field <see cref="Field"/> is missing (null), it takes <see cref="Value"/>.</summary>
/// <param name="Field">The field name.</param>
/// <param name="Value">The value as invariant-culture text, converted to the field's type when the contract is bound.</param>
/// <param name="Location">Where it was written.</param>
public sealed record DefaultSpec(string Field, string Value, SpecLocation? Location = null);
