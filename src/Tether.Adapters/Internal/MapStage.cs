namespace Tether.Adapters.Internal;

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
