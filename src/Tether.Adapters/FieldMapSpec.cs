namespace Tether.Adapters;

/// <summary>
/// How one field of the destination message is filled by a <see cref="MapSpec"/>: taken from a source field
/// (renamed when <see cref="From"/> differs), converted between text, numbers and dates/times, or defaulted.
/// </summary>
public sealed record FieldMapSpec
{
    /// <summary>The destination field.</summary>
    public required string Field { get; init; }

    /// <summary>The source field path; null means the source field of the same name.</summary>
    public string? From { get; init; }

    /// <summary>The format of a text ↔ number or text ↔ date/time conversion (a .NET format string such as <c>yyyy-MM-dd</c> or <c>0.00</c>).</summary>
    public string? Format { get; init; }

    /// <summary>The culture of a conversion (<c>en-US</c>, <c>de-DE</c>, <c>invariant</c>); invariant when absent.</summary>
    public string? Culture { get; init; }

    /// <summary>The value (invariant text) used when the source is missing (null) or has no such field.</summary>
    public string? Default { get; init; }

    /// <summary>True when the destination field is left at its default (nothing is copied into it).</summary>
    public bool Ignore { get; init; }

    /// <summary>Where it was written.</summary>
    public SpecLocation? Location { get; init; }
}
