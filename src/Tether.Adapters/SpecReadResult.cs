namespace Tether.Adapters;

/// <summary>What reading contract specs produced: the contracts that are well-formed, and every error.</summary>
/// <param name="Specs">The contracts read.</param>
/// <param name="Errors">The errors, in file order; empty when everything is valid.</param>
public sealed record SpecReadResult(IReadOnlyList<ContractSpec> Specs, IReadOnlyList<SpecError> Errors)
{
    /// <summary>True when there are no errors.</summary>
    public bool IsValid => Errors.Count == 0;
}
