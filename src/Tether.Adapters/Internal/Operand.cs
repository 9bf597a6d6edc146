namespace Tether.Adapters.Internal;

/// <summary>One side of a cross-field comparison: a field path or a literal.</summary>
internal sealed record Operand(string? Path, string? Literal, bool IsText)
{
    public bool IsField => Path is not null;

    public override string ToString() => Path ?? (IsText ? $"'{Literal}'" : Literal!);
}
