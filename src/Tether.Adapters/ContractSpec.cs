namespace Tether.Adapters;

/// <summary>
/// The contract of one message type, as read from YAML (<see cref="ContractSpecReader"/>) or built in C#
/// (<see cref="ContractBuilder"/>): its rules, defaults, sensitive fields and the mappings onto it from other types.
/// </summary>
/// <remarks>
/// Order of work for one message: defaults fill missing fields, then the rules are checked in the order written; the first
/// rule broken stops the message. A message of another type that maps onto this one is checked against its own
/// contract first, then mapped, then checked against this one.
/// </remarks>
public sealed record ContractSpec
{
    /// <summary>The stable contract name of the message type (<c>Orders.PlaceOrder</c>); code registers its CLR type under it.</summary>
    public required string Message { get; init; }

    /// <summary>What the message is for, in words.</summary>
    public string? Description { get; init; }

    /// <summary>Where the rules are enforced; <see cref="Enforcement.Input"/> by default.</summary>
    public Enforcement Enforce { get; init; } = Enforcement.Input;

    /// <summary>Field paths whose values are masked in error texts and logs (a path masks everything below it).</summary>
    public IReadOnlyList<string> Sensitive { get; init; } = [];

    /// <summary>Values for missing fields, applied before the rules.</summary>
    public IReadOnlyList<DefaultSpec> Defaults { get; init; } = [];

    /// <summary>The rules, checked in order.</summary>
    public IReadOnlyList<RuleSpec> Rules { get; init; } = [];

    /// <summary>Mappings onto this message from other message types.</summary>
    public IReadOnlyList<MapSpec> MapFrom { get; init; } = [];

    /// <summary>Where the contract was written (its <c>message:</c> line).</summary>
    public SpecLocation? Location { get; init; }
}
