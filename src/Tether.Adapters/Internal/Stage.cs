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
