namespace Tether.Adapters;

/// <summary>How the destination fields of a mapping are filled, written with <see cref="ContractBuilder.MapFrom"/>.</summary>
public sealed class MapBuilder
{
    private readonly SpecLocation _location;

    internal MapBuilder(SpecLocation location) => _location = location;

    internal List<FieldMapSpec> Fields { get; } = [];

    /// <summary>Fills <paramref name="field"/> from the source field <paramref name="from"/> (a rename).</summary>
    public MapBuilder Rename(string field, string from) => Add(new FieldMapSpec { Field = field, From = from });

    /// <summary>
    /// Fills <paramref name="field"/> from <paramref name="from"/> (by default the same name), converting between text,
    /// numbers and dates/times with <paramref name="format"/> and <paramref name="culture"/> (default invariant).
    /// </summary>
    public MapBuilder Convert(string field, string? from = null, string? format = null, string? culture = null)
        => Add(new FieldMapSpec { Field = field, From = from, Format = format, Culture = culture });

    /// <summary>Gives <paramref name="field"/> a value when the source lacks it (or it is null there).</summary>
    public MapBuilder Default<T>(string field, T value)
        where T : notnull
        => Add(new FieldMapSpec { Field = field, Default = ContractBuilder.Text(value) });

    /// <summary>Leaves <paramref name="field"/> at its default value.</summary>
    public MapBuilder Ignore(string field) => Add(new FieldMapSpec { Field = field, Ignore = true });

    /// <summary>Adds a field mapping written out in full.</summary>
    public MapBuilder Field(FieldMapSpec field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return Add(field);
    }

    private MapBuilder Add(FieldMapSpec field)
    {
        Fields.Add(field with { Location = field.Location ?? _location });
        return this;
    }
}
