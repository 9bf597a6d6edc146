namespace Tether.Adapters.Internal;

/// <summary>A contract bound to its CLR type: compiled checks and, when it has defaults, the stage that fills them.</summary>
internal sealed class CompiledContract(ContractSpec spec, Type type)
{
    public ContractSpec Spec { get; } = spec;

    public Type Type { get; } = type;

    public string Name => Spec.Message;

    public Check[] Checks { get; set; } = [];

    public DefaultsStage? Defaults { get; set; }

    /// <summary>All rules in one compiled test; true when the message passes every one.</summary>
    public Func<object, bool> Passes { get; set; } = static _ => true;

    /// <summary>The first broken rule, or null. Allocates nothing when every rule holds.</summary>
    public Violation? Validate(object message)
    {
        foreach (Check check in Checks)
        {
            if (check.Validate(message) is { } violation)
            {
                return violation;
            }
        }

        return null;
    }

    /// <summary>The stages a message of this type goes through where the contract is enforced: defaults, then checks.</summary>
    public IEnumerable<Stage> Stages()
    {
        if (Defaults is not null)
        {
            yield return Defaults;
        }

        if (Checks.Length > 0)
        {
            yield return new ValidateStage(this);
        }
    }
}
