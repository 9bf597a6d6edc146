namespace Tether.Adapters;

/// <summary>
/// Contract specs that cannot be used: each error names its file, line and column. Thrown when adapters are built
/// (at node start), so a node never runs with a broken contract.
/// </summary>
public sealed class ContractSpecException : Exception
{
    /// <summary>Creates the exception from its errors.</summary>
    public ContractSpecException(IReadOnlyList<SpecError> errors)
        : base(Compose(errors))
    {
        Errors = errors;
    }

    /// <summary>Every error found (not only the first).</summary>
    public IReadOnlyList<SpecError> Errors { get; }

    private static string Compose(IReadOnlyList<SpecError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        string noun = errors.Count == 1 ? "error" : "errors";
        return $"The message contracts have {errors.Count} {noun}:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}";
    }
}
