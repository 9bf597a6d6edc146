using System.Linq.Expressions;

namespace Tether.Adapters.Internal;

/// <summary>
/// Fills missing top-level fields. Compiled to one expression: when no default field is null it returns the message
/// itself; otherwise it builds a copy with the nulls replaced (messages are immutable).
/// </summary>
internal sealed class DefaultsStage : Stage
{
    private readonly Func<object, object> _apply;
    private readonly string _name;
    private readonly string _words;

    public DefaultsStage(string name, TypeShape shape, IReadOnlyDictionary<string, object> defaults)
    {
        _name = name;
        _words = string.Join(", ", defaults.Select(d => $"{d.Key} = {ValueText.Of(d.Value)}"));
        ParameterExpression message = Expression.Parameter(typeof(object), "message");
        ParameterExpression typed = Expression.Variable(shape.Type, "typed");
        Expression anyMissing = Expression.Constant(false);
        var values = new List<Expression>();
        foreach (WritableMember member in shape.Writable)
        {
            Expression read = Expression.MakeMemberAccess(typed, member.Member);
            KeyValuePair<string, object>? fallback = defaults.FirstOrDefault(d => string.Equals(d.Key, member.Name, StringComparison.OrdinalIgnoreCase));
            if (fallback is { Value: not null } entry)
            {
                Expression isNull = Expression.Equal(read, Expression.Constant(null, member.Type));
                anyMissing = Expression.OrElse(anyMissing, isNull);
                read = Expression.Condition(isNull, Expression.Constant(entry.Value, member.Type), read);
            }

            values.Add(Expression.Convert(read, typeof(object)));
        }

        Expression rebuild = Expression.Call(Expression.Constant(shape), typeof(TypeShape).GetMethod(nameof(TypeShape.Create))!, Expression.NewArrayInit(typeof(object), values));
        Expression body = Expression.Block(
            typeof(object),
            [typed],
            Expression.Assign(typed, Expression.Convert(message, shape.Type)),
            Expression.Condition(anyMissing, rebuild, message));
        _apply = Expression.Lambda<Func<object, object>>(body, message).Compile();
    }

    public override object Apply(object message) => _apply(message);

    public override string Describe() => $"fill missing fields of {_name}: {_words}";
}
