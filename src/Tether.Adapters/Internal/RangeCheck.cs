using System.Linq.Expressions;

namespace Tether.Adapters.Internal;

internal sealed class RangeCheck<T>(RuleSpec spec, bool sensitive, PathGetter<T> get, bool hasMin, T min, bool hasMax, T max) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out T value))
        {
            return null;
        }

        if ((value is double d && double.IsNaN(d)) || (value is float f && float.IsNaN(f)))
        {
            return Fail(value, "NaN is not in any range");
        }

        if (hasMin && Comparer<T>.Default.Compare(value, min) < 0)
        {
            return Fail(value, $"it is less than the minimum {ValueText.Of(min)}");
        }

        if (hasMax && Comparer<T>.Default.Compare(value, max) > 0)
        {
            return Fail(value, $"it is greater than the maximum {ValueText.Of(max)}");
        }

        return null;
    }

    // NaN fails both comparisons, so it takes the slow path, which names it.
    public override Expression? Inline(Expression root, List<ParameterExpression> variables)
        => FastPath.Access(root, Spec.Path, whenMissing: true, v =>
        {
            Expression low = hasMin ? FastPath.Compare(v, Expression.Constant(min, typeof(T)), ExpressionType.GreaterThanOrEqual) : Expression.Constant(true);
            Expression high = hasMax ? FastPath.Compare(v, Expression.Constant(max, typeof(T)), ExpressionType.LessThanOrEqual) : Expression.Constant(true);
            return Expression.AndAlso(low, high);
        }, variables);
}
