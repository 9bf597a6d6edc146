namespace Tether.Adapters;

/// <summary>One validation rule of a contract, as written in a spec.</summary>
/// <remarks>
/// Literal values (<see cref="Min"/>, <see cref="Max"/>, <see cref="Values"/>) are kept as invariant-culture text and
/// converted to the field's type when the contract is bound to its CLR type. A rule on a missing field passes, except
/// <see cref="RuleKind.Required"/>: absence is that rule's business.
/// </remarks>
public sealed record RuleSpec
{
    /// <summary>The kind of rule.</summary>
    public required RuleKind Kind { get; init; }

    /// <summary>The field path (<c>customer.address.zip</c>), relative to the message or, inside <see cref="RuleKind.Each"/>, to the item; empty for the whole message or item.</summary>
    public string Path { get; init; } = "";

    /// <summary>The lower bound (range, length, count), inclusive.</summary>
    public string? Min { get; init; }

    /// <summary>The upper bound (range, length, count), inclusive.</summary>
    public string? Max { get; init; }

    /// <summary>The regular expression of a <see cref="RuleKind.Pattern"/> rule.</summary>
    public string? Pattern { get; init; }

    /// <summary>The allowed values of a <see cref="RuleKind.OneOf"/> rule.</summary>
    public IReadOnlyList<string>? Values { get; init; }

    /// <summary>The comparison of a <see cref="RuleKind.Compare"/> rule: <c>operand op operand</c>, op one of == != &lt; &lt;= &gt; &gt;=; an operand is a field path or a literal (number, 'text', true, false).</summary>
    public string? Expression { get; init; }

    /// <summary>The per-item rules of an <see cref="RuleKind.Each"/> rule.</summary>
    public IReadOnlyList<RuleSpec>? Rules { get; init; }

    /// <summary>The contract name a <see cref="RuleKind.Nested"/> rule applies.</summary>
    public string? Contract { get; init; }

    /// <summary>The predicate name of a <see cref="RuleKind.Custom"/> rule.</summary>
    public string? Predicate { get; init; }

    /// <summary>Words for the sender, added to every violation of this rule (how to fix the message).</summary>
    public string? Hint { get; init; }

    /// <summary>Where the rule was written.</summary>
    public SpecLocation? Location { get; init; }
}
