using System.Linq.Expressions;

namespace Tether.Adapters.Internal;

/// <summary>
/// One compiled rule. <see cref="Validate"/> returns null when the message passes, and allocates nothing then;
/// the violation (the slow path) is described only when a rule breaks.
/// </summary>
internal abstract class Check(RuleSpec spec, bool sensitive)
{
    public RuleSpec Spec { get; } = spec;

    protected bool Sensitive { get; } = sensitive;

    public abstract Violation? Validate(object message);

    /// <summary>The rule as an inline "passes" expression on the typed message, or null to call <see cref="Validate"/> instead.</summary>
    public virtual Expression? Inline(Expression root, List<ParameterExpression> variables) => null;

    protected Violation Fail(object? value, string detail, string? path = null)
        => new(path ?? Spec.Path, RuleWords.Short(Spec), Sensitive ? "(masked: sensitive field)" : ValueText.Of(value), detail, Spec);
}
