namespace Tether.Adapters.Internal;

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
