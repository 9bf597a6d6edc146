using System.Linq.Expressions;

namespace Tether.Adapters.Internal;

internal sealed class RequiredCheck<T>(RuleSpec spec, bool sensitive, PathGetter<T> get) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out T value))
        {
            return Fail(null, "the field is missing");
        }

        return value is string { Length: 0 } ? Fail(value, "the text is empty") : null;
    }

    public override Expression? Inline(Expression root, List<ParameterExpression> variables)
        => FastPath.Access(root, Spec.Path, whenMissing: false, v => v.Type == typeof(string) ? Expression.GreaterThan(Expression.Property(v, "Length"), Expression.Constant(0)) : Expression.Constant(true), variables);
}
