using System.Linq.Expressions;

namespace Tether.Adapters.Internal;

internal sealed class LengthCheck(RuleSpec spec, bool sensitive, PathGetter<string> get, int min, int max) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out string text))
        {
            return null;
        }

        if (text.Length < min)
        {
            return Fail(text, $"it has {text.Length} characters, fewer than the minimum {min}");
        }

        return text.Length > max ? Fail(text, $"it has {text.Length} characters, more than the maximum {max}") : null;
    }

    public override Expression? Inline(Expression root, List<ParameterExpression> variables)
        => FastPath.Access(root, Spec.Path, whenMissing: true, v =>
        {
            Expression length = Expression.Property(v, "Length");
            return Expression.AndAlso(Expression.GreaterThanOrEqual(length, Expression.Constant(min)), Expression.LessThanOrEqual(length, Expression.Constant(max)));
        }, variables);
}
