using System.Linq.Expressions;
using System.Reflection;

namespace Tether.Adapters.Internal;

/// <summary>
/// Compiles all of a contract's rules into one delegate that only answers "does the message pass?": one cast, field reads
/// and comparisons inline, no virtual call per rule. When it says no, the per-rule <see cref="Check"/>s run to name the
/// violation (the slow path, taken only by messages that are refused).
/// </summary>
internal static class FastPath
{
    private static readonly MethodInfo s_validate = typeof(Check).GetMethod(nameof(Check.Validate))!;

    public static Func<object, bool> Compile(Type root, IReadOnlyList<Check> checks)
    {
        ParameterExpression message = Expression.Parameter(typeof(object), "message");
        ParameterExpression typed = Expression.Variable(root, "typed");
        var variables = new List<ParameterExpression> { typed };
        Expression passes = Expression.Constant(true);
        foreach (Check check in checks)
        {
            Expression test = check.Inline(typed, variables) ?? Expression.Equal(Expression.Call(Expression.Constant(check), s_validate, message), Expression.Constant(null, typeof(Violation)));
            passes = passes is ConstantExpression { Value: true } ? test : Expression.AndAlso(passes, test);
        }

        Expression body = Expression.Block(typeof(bool), variables, Expression.Assign(typed, Expression.Convert(message, root)), passes);
        return Expression.Lambda<Func<object, bool>>(body, message).Compile();
    }

    /// <summary>
    /// Reads <paramref name="path"/> from <paramref name="root"/> with a null check at each step: a null step yields
    /// <paramref name="whenMissing"/>; otherwise <paramref name="test"/> gets the leaf (Nullable unwrapped).
    /// </summary>
    public static Expression Access(Expression root, string path, bool whenMissing, Func<Expression, Expression> test, List<ParameterExpression> variables)
        => path.Length == 0 ? test(root) : Step(root, path.Split('.'), 0, whenMissing, test, variables);

    /// <summary>A comparison inline when the type has operators; through <see cref="Comparer{T}"/> otherwise.</summary>
    public static Expression Compare(Expression left, Expression right, ExpressionType op)
    {
        try
        {
            return Expression.MakeBinary(op, left, right);
        }
        catch (InvalidOperationException)
        {
            Type comparerType = typeof(Comparer<>).MakeGenericType(left.Type);
            object comparer = comparerType.GetProperty("Default")!.GetValue(null)!;
            Expression order = Expression.Call(Expression.Constant(comparer), comparerType.GetMethod("Compare")!, left, right);
            return Expression.MakeBinary(op, order, Expression.Constant(0));
        }
    }

    private static Expression Step(Expression current, string[] steps, int index, bool whenMissing, Func<Expression, Expression> test, List<ParameterExpression> variables)
    {
        if (Nullable.GetUnderlyingType(current.Type) is not null)
        {
            current = Expression.Property(current, "Value");
        }

        MemberInfo member = TypeShape.Of(current.Type).Find(steps[index], out _)!;
        Expression access = Expression.MakeMemberAccess(current, member);
        ParameterExpression value = Expression.Variable(access.Type, steps[index]);
        variables.Add(value);
        Expression rest = index == steps.Length - 1
            ? test(Nullable.GetUnderlyingType(value.Type) is not null ? Expression.Property(value, "Value") : value)
            : Step(value, steps, index + 1, whenMissing, test, variables);
        Expression assign = Expression.Assign(value, access);
        if (!TypeNames.CanBeNull(access.Type))
        {
            return Expression.Block(assign, rest);
        }

        return Expression.Condition(Expression.Equal(assign, Expression.Constant(null, access.Type)), Expression.Constant(whenMissing), rest);
    }
}
