namespace Tether.Adapters;

/// <summary>Where something in a contract spec was written: file, line and column (1-based).</summary>
/// <param name="File">The file as it was named when loaded (a path, an embedded resource name, or <c>code</c> for the C# builder).</param>
/// <param name="Line">The line, from 1.</param>
/// <param name="Column">The column, from 1.</param>
public readonly record struct SpecLocation(string File, int Line, int Column)
{
    /// <summary>The form compilers use: <c>file:line:col</c>.</summary>
    public override string ToString() => $"{File}:{Line}:{Column}";
}
