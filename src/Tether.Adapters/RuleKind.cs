namespace Tether.Adapters;

/// <summary>The kinds of validation rule.</summary>
public enum RuleKind
{
    /// <summary>The field is present: not null, and for text not empty.</summary>
    Required,

    /// <summary>The value lies between <see cref="RuleSpec.Min"/> and <see cref="RuleSpec.Max"/> (inclusive; either may be absent).</summary>
    Range,

    /// <summary>The text has between <see cref="RuleSpec.Min"/> and <see cref="RuleSpec.Max"/> characters.</summary>
    Length,

    /// <summary>The text matches the regular expression <see cref="RuleSpec.Pattern"/> (anchor it with ^ and $ to match the whole text).</summary>
    Pattern,

    /// <summary>The value is one of <see cref="RuleSpec.Values"/>.</summary>
    OneOf,

    /// <summary>A comparison between two fields, or a field and a literal: <see cref="RuleSpec.Expression"/> such as <c>end &gt;= start</c>.</summary>
    Compare,

    /// <summary>The collection has between <see cref="RuleSpec.Min"/> and <see cref="RuleSpec.Max"/> items.</summary>
    Count,

    /// <summary>Every item of the collection meets <see cref="RuleSpec.Rules"/> (paths relative to the item; empty path = the item itself).</summary>
    Each,

    /// <summary>The nested message meets the rules of the contract <see cref="RuleSpec.Contract"/>.</summary>
    Nested,

    /// <summary>A named predicate registered in code (<see cref="MessageAdaptersBuilder.AddPredicate{T}"/>) holds for the value.</summary>
    Custom,
}
