namespace Tether.Adapters.Internal;

/// <summary>How one destination field of a mapping is filled.</summary>
internal sealed record FieldPlan(WritableMember Member, CompiledPath? Source, Conversion? Conversion, object? Default, bool HasDefault, bool Required, bool Sensitive, FieldMapSpec? Spec, string Words);
