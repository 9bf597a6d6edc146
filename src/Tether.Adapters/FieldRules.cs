namespace Tether.Adapters;

/// <summary>The rules on one field (or, inside <see cref="Each"/>, on one item), written with <see cref="ContractBuilder.Field"/>.</summary>
public sealed class FieldRules
{
    private readonly string _path;
    private readonly SpecLocation _location;
    private string? _hint;

    internal FieldRules(string path, SpecLocation location)
    {
        ArgumentNullException.ThrowIfNull(path);
        _path = path;
        _location = location;
    }

    internal List<RuleSpec> Rules { get; } = [];

    /// <summary>The field must be present (not null; text not empty).</summary>
    public FieldRules Required() => Add(new RuleSpec { Kind = RuleKind.Required });

    /// <summary>The value must lie between <paramref name="min"/> and <paramref name="max"/>, inclusive.</summary>
    public FieldRules Range<T>(T min, T max)
        where T : notnull
        => Add(new RuleSpec { Kind = RuleKind.Range, Min = ContractBuilder.Text(min), Max = ContractBuilder.Text(max) });

    /// <summary>The value must be at least <paramref name="min"/>.</summary>
    public FieldRules Min<T>(T min)
        where T : notnull
        => Add(new RuleSpec { Kind = RuleKind.Range, Min = ContractBuilder.Text(min) });

    /// <summary>The value must be at most <paramref name="max"/>.</summary>
    public FieldRules Max<T>(T max)
        where T : notnull
        => Add(new RuleSpec { Kind = RuleKind.Range, Max = ContractBuilder.Text(max) });

    /// <summary>The text must have between <paramref name="min"/> and <paramref name="max"/> characters.</summary>
    public FieldRules Length(int min, int max = int.MaxValue)
        => Add(new RuleSpec { Kind = RuleKind.Length, Min = ContractBuilder.Text(min), Max = max == int.MaxValue ? null : ContractBuilder.Text(max) });

    /// <summary>The text must match the regular expression (anchor it with ^ and $ to match all of it).</summary>
    public FieldRules Pattern(string regex) => Add(new RuleSpec { Kind = RuleKind.Pattern, Pattern = regex });

    /// <summary>The value must be one of <paramref name="values"/>.</summary>
    public FieldRules OneOf<T>(params T[] values)
        where T : notnull
        => Add(new RuleSpec { Kind = RuleKind.OneOf, Values = values.Select(v => ContractBuilder.Text(v)).ToArray() });

    /// <summary>The list must have between <paramref name="min"/> and <paramref name="max"/> items.</summary>
    public FieldRules Count(int min, int max = int.MaxValue)
        => Add(new RuleSpec { Kind = RuleKind.Count, Min = ContractBuilder.Text(min), Max = max == int.MaxValue ? null : ContractBuilder.Text(max) });

    /// <summary>Every item of the list must meet <paramref name="items"/> (paths relative to the item).</summary>
    public FieldRules Each(Action<ItemRules> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var builder = new ItemRules(_location);
        items(builder);
        return Add(new RuleSpec { Kind = RuleKind.Each, Rules = builder.Rules });
    }

    /// <summary>The nested message must meet the contract named <paramref name="contract"/>.</summary>
    public FieldRules Contract(string contract) => Add(new RuleSpec { Kind = RuleKind.Nested, Contract = contract });

    /// <summary>The predicate registered in code under <paramref name="predicate"/> must hold for the value.</summary>
    public FieldRules Custom(string predicate) => Add(new RuleSpec { Kind = RuleKind.Custom, Predicate = predicate });

    /// <summary>Words for the sender added to every violation of this field's rules (how to fix the message).</summary>
    public FieldRules Hint(string hint)
    {
        _hint = hint;
        for (int i = 0; i < Rules.Count; i++)
        {
            Rules[i] = Rules[i] with { Hint = hint };
        }

        return this;
    }

    private FieldRules Add(RuleSpec rule)
    {
        Rules.Add(rule with { Path = _path, Hint = _hint, Location = _location });
        return this;
    }
}
