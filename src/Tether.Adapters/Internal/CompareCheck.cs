using System.Linq.Expressions;

namespace Tether.Adapters.Internal;

internal sealed class CompareCheck<T>(RuleSpec spec, bool sensitive, CompareExpression expression, Func<object, (bool Present, T Value)> left, Func<object, (bool Present, T Value)> right)
    : Check(spec, sensitive)
{
    private static readonly IComparer<T> s_comparer = typeof(T) == typeof(string) ? (IComparer<T>)(object)StringComparer.Ordinal : Comparer<T>.Default;

    public override Violation? Validate(object message)
    {
        (bool hasLeft, T a) = left(message);
        (bool hasRight, T b) = right(message);
        if (!hasLeft || !hasRight)
        {
            return null; // absence is the business of 'required'
        }

        int order = s_comparer.Compare(a, b);
        bool holds = expression.Operator switch
        {
            "==" => order == 0,
            "!=" => order != 0,
            "<" => order < 0,
            "<=" => order <= 0,
            ">" => order > 0,
            _ => order >= 0,
        };
        if (holds)
        {
            return null;
        }

        string path = expression.Left.Path ?? expression.Right.Path!;
        string detail = Sensitive
            ? $"{expression} does not hold"
            : $"{expression.Left} is {ValueText.Of(a)} and {expression.Right} is {ValueText.Of(b)}";
        return Fail(a, detail, path);
    }

    public override Expression? Inline(Expression root, List<ParameterExpression> variables)
    {
        if (!expression.Left.IsField || !expression.Right.IsField || typeof(T) == typeof(string))
        {
            return null;
        }

        ExpressionType op = expression.Operator switch
        {
            "==" => ExpressionType.Equal,
            "!=" => ExpressionType.NotEqual,
            "<" => ExpressionType.LessThan,
            "<=" => ExpressionType.LessThanOrEqual,
            ">" => ExpressionType.GreaterThan,
            _ => ExpressionType.GreaterThanOrEqual,
        };
        return FastPath.Access(root, expression.Left.Path!, whenMissing: true, l => FastPath.Access(root, expression.Right.Path!, whenMissing: true, r =>
            FastPath.Compare(l.Type == typeof(T) ? l : Expression.Convert(l, typeof(T)), r.Type == typeof(T) ? r : Expression.Convert(r, typeof(T)), op), variables), variables);
    }
}
