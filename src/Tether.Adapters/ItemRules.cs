using System.Runtime.CompilerServices;

namespace Tether.Adapters;

/// <summary>The rules on each item of a list, written with <see cref="FieldRules.Each"/>.</summary>
public sealed class ItemRules
{
    private readonly SpecLocation _location;

    internal ItemRules(SpecLocation location) => _location = location;

    internal List<RuleSpec> Rules { get; } = [];

    /// <summary>Rules on the item itself (a list of numbers or of text, for instance).</summary>
    public ItemRules Item(Action<FieldRules> rules) => Field("", rules);

    /// <summary>Rules on a field of the item.</summary>
    public ItemRules Field(string path, Action<FieldRules> rules, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var field = new FieldRules(path, line == 0 ? _location : ContractBuilder.At(file, line));
        rules(field);
        Rules.AddRange(field.Rules);
        return this;
    }

    /// <summary>A comparison between fields of the item.</summary>
    public ItemRules Check(string expression, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        Rules.Add(new RuleSpec { Kind = RuleKind.Compare, Expression = expression, Location = ContractBuilder.At(file, line) });
        return this;
    }
}
