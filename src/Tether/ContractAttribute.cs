namespace Tether;

/// <summary>
/// Names a message type's contract: the stable name it travels under between nodes and that its adapters' specs
/// use (<c>message: orders.place</c>). <see cref="ContractRegistry.RegisterAssembly"/> registers every type of an
/// assembly that carries it.
/// </summary>
/// <example>
/// <code>
/// [Contract("orders.place")]
/// public sealed record PlaceOrder(string Item, int Quantity) : IRequest&lt;string&gt;;
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Enum, AllowMultiple = false, Inherited = false)]
public sealed class ContractAttribute : Attribute
{
    /// <summary>Names the contract of the type this attribute is on.</summary>
    /// <param name="name">The contract name (<see cref="Names.IsContractName"/>).</param>
    public ContractAttribute(string name) => Name = name;

    /// <summary>The contract name.</summary>
    public string Name { get; }
}
