using System.Linq.Expressions;

namespace Tether.Adapters.Internal;

/// <summary>One step of a pipe: validate, fill defaults, or map onto another type. Stateless and thread-safe.</summary>
/// <remarks>A stage is a pipe of its own: a pipe of one stage is the stage itself, with no loop around it.</remarks>
internal abstract class Stage : MessagePipe
{
    /// <summary>The step in plain words.</summary>
    public abstract string Describe();

    public override string ToString() => Describe();

    public static ContractViolationException Violated(string messageType, Violation violation)
    {
        string detail = violation.Detail;
        if (violation.Spec.Hint is { } hint)
        {
            detail += $"; {hint}";
        }

        if (violation.Spec.Location is { } at)
        {
            detail += $" [rule at {at}]";
        }

        return new ContractViolationException(messageType, violation.Path, violation.Rule, violation.Value, detail);
    }
}

internal sealed class ValidateStage(CompiledContract contract) : Stage
{
    private readonly Func<object, bool> _passes = contract.Passes;

    public override object Apply(object message)
    {
        if (_passes(message))
        {
            return message; // the hot path: one compiled test, no allocation
        }

        Violation? violation = contract.Validate(message);
        return violation is null ? message : throw Violated(contract.Name, violation);
    }

    public override string Describe() => $"check the {contract.Checks.Length} rule(s) of {contract.Name}";
}

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

/// <summary>How one destination field of a mapping is filled.</summary>
internal sealed record FieldPlan(WritableMember Member, CompiledPath? Source, Conversion? Conversion, object? Default, bool HasDefault, bool Required, bool Sensitive, FieldMapSpec? Spec, string Words);

/// <summary>Maps a message onto another type (v1 → v2, or a projection), field by field; then the destination's contract applies.</summary>
internal sealed class MapStage(string sourceName, Type sourceType, string targetName, TypeShape target) : Stage
{
    public string SourceName { get; } = sourceName;

    public Type SourceType { get; } = sourceType;

    public string TargetName { get; } = targetName;

    public Type TargetType => target.Type;

    public FieldPlan[] Plans { get; set; } = [];

    public override object Apply(object message)
    {
        FieldPlan[] plans = Plans;
        object?[] values = new object?[plans.Length];
        for (int i = 0; i < plans.Length; i++)
        {
            FieldPlan plan = plans[i];
            object? value = plan.Source?.Boxed(message);
            if (value is not null && plan.Conversion?.Convert is { } convert)
            {
                if (!convert(value, out object? converted, out string? failure))
                {
                    throw Violated(plan, value, failure!);
                }

                value = converted;
            }

            if (value is null)
            {
                if (plan.HasDefault)
                {
                    value = plan.Default;
                }
                else if (plan.Required)
                {
                    throw Violated(plan, null, $"it is missing, and {TargetName}.{plan.Member.Name} needs a value; send it, or give the mapping a default");
                }
            }

            values[i] = value;
        }

        return target.Create(values);
    }

    public override string Describe() => $"map {SourceName} onto {TargetName}";

    private ContractViolationException Violated(FieldPlan plan, object? value, string detail)
    {
        string path = plan.Source?.Path ?? plan.Member.Name;
        string rule = $"map onto {TargetName}.{plan.Member.Name}: {plan.Words}";
        if (plan.Spec?.Location is { } at)
        {
            detail += $" [mapping at {at}]";
        }

        return new ContractViolationException(SourceName, path, rule, plan.Sensitive ? "(masked: sensitive field)" : ValueText.Of(value), detail);
    }
}

/// <summary>The pipe the mailbox runs: stages in order, built once per (target type, message type).</summary>
internal sealed class AdapterPipe(Stage[] stages) : MessagePipe
{
    public IReadOnlyList<Stage> Stages => stages;

    public override object Apply(object message)
    {
        foreach (Stage stage in stages)
        {
            message = stage.Apply(message);
        }

        return message;
    }

    public override string ToString() => string.Join(" → ", stages.Select(s => s.Describe()));
}
