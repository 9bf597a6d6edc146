using System.Linq.Expressions;
using System.Reflection;

namespace Tether.Adapters.Internal;

/// <summary>
/// Compiles field paths (<c>customer.address.zip</c>) into delegates with System.Linq.Expressions, once per rule at
/// bind time. The getter checks every step for null, unwraps Nullable and never boxes a value type.
/// </summary>
internal static class PathAccessor
{
    private static readonly MethodInfo s_box = typeof(PathAccessor).GetMethod(nameof(Box), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>
    /// Compiles <paramref name="path"/> (empty: the message itself) on <paramref name="root"/>. The value type is the leaf
    /// type with Nullable unwrapped, or <paramref name="convertTo"/> when given (the leaf is converted to it).
    /// </summary>
    public static CompiledPath? Compile(Type root, string path, out string? error, Type? convertTo = null)
    {
        error = null;
        ParameterExpression message = Expression.Parameter(typeof(object), "message");
        var variables = new List<ParameterExpression>();
        var body = new List<Expression>();
        LabelTarget done = Expression.Label(typeof(bool), "done");
        Expression current = Expression.Convert(message, root);
        Type currentType = root;
        var steps = path.Length == 0 ? [] : path.Split('.');
        var missing = new List<(ParameterExpression Variable, Type Type)>();
        foreach (string step in steps)
        {
            if (Nullable.GetUnderlyingType(currentType) is { } underlying)
            {
                current = Expression.Property(current, "Value");
                currentType = underlying;
            }

            MemberInfo? member = TypeShape.Of(currentType).Find(step, out error);
            if (member is null)
            {
                return null;
            }

            Type memberType = TypeShape.TypeOf(member);
            ParameterExpression variable = Expression.Variable(memberType, step);
            variables.Add(variable);
            body.Add(Expression.Assign(variable, Expression.MakeMemberAccess(current, member)));
            if (TypeNames.CanBeNull(memberType))
            {
                missing.Add((variable, memberType));
            }

            current = variable;
            currentType = memberType;
        }

        Type declared = currentType;
        Type leaf = Nullable.GetUnderlyingType(currentType) ?? currentType;
        Type valueType = convertTo ?? leaf;
        if (leaf != currentType)
        {
            current = Expression.Property(current, "Value");
        }

        if (current.Type != valueType)
        {
            try
            {
                current = Expression.Convert(current, valueType);
            }
            catch (InvalidOperationException)
            {
                error = $"'{(path.Length == 0 ? "the message" : path)}' is a {TypeNames.Friendly(declared)}, which is not a {TypeNames.Friendly(valueType)}";
                return null;
            }
        }

        ParameterExpression value = Expression.Parameter(valueType.MakeByRefType(), "value");

        // Each step that can be null returns false at once; the tail assigns the leaf and returns true.
        var statements = new List<Expression>();
        int next = 0;
        foreach (Expression statement in body)
        {
            statements.Add(statement);
            ParameterExpression assigned = (ParameterExpression)((BinaryExpression)statement).Left;
            if (next < missing.Count && missing[next].Variable == assigned)
            {
                statements.Add(Expression.IfThen(
                    Expression.Equal(assigned, Expression.Constant(null, missing[next].Type)),
                    Expression.Block(Expression.Assign(value, Expression.Default(valueType)), Expression.Return(done, Expression.Constant(false)))));
                next++;
            }
        }

        if (steps.Length == 0)
        {
            // The item or message itself: null only when it is a null item of a collection.
            statements.Add(Expression.IfThen(
                Expression.Equal(message, Expression.Constant(null)),
                Expression.Block(Expression.Assign(value, Expression.Default(valueType)), Expression.Return(done, Expression.Constant(false)))));
        }

        statements.Add(Expression.Assign(value, current));
        statements.Add(Expression.Label(done, Expression.Constant(true)));
        Type delegateType = typeof(PathGetter<>).MakeGenericType(valueType);
        Delegate getter = Expression.Lambda(delegateType, Expression.Block(typeof(bool), variables, statements), message, value).Compile();
        var boxed = (Func<object, object?>)s_box.MakeGenericMethod(valueType).Invoke(null, [getter])!;
        return new CompiledPath(path, valueType, declared, getter, boxed);
    }

    private static Func<object, object?> Box<T>(PathGetter<T> getter) => message => getter(message, out T value) ? value : null;
}
