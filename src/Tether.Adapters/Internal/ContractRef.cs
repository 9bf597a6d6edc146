namespace Tether.Adapters.Internal;

/// <summary>A contract resolved after every contract is compiled, so nested contracts may refer to each other in any order.</summary>
internal sealed class ContractRef(string name)
{
    public string Name { get; } = name;

    public CompiledContract? Contract { get; set; }
}
