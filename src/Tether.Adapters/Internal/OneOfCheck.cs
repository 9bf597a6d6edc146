using System.Collections.Frozen;
using System.Linq.Expressions;

namespace Tether.Adapters.Internal;

internal sealed class OneOfCheck<T>(RuleSpec spec, bool sensitive, PathGetter<T> get, FrozenSet<T> allowed) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out T value))
        {
            return null;
        }

        return allowed.Contains(value) ? null : Fail(value, $"it is not one of {string.Join(", ", Spec.Values ?? [])}");
    }

    // A few values: a chain of equality tests beats hashing the value.
    public override Expression? Inline(Expression root, List<ParameterExpression> variables)
    {
        if (allowed.Count > 8)
        {
            return null;
        }

        try
        {
            return FastPath.Access(root, Spec.Path, whenMissing: true, v => allowed.Aggregate(
                (Expression)Expression.Constant(false),
                (any, value) => Expression.OrElse(any, Expression.Equal(v, Expression.Constant(value, typeof(T))))), variables);
        }
        catch (InvalidOperationException)
        {
            return null; // no == operator for T: the set decides
        }
    }
}
