namespace Tether.Adapters;

/// <summary>
/// A mapping onto the contract's message from another message type: the next version of a message (v1 → v2), or
/// the projection of a large message onto a smaller one. Destination fields not listed in <see cref="Fields"/> are
/// taken from the source field of the same name (case-insensitive), converted when the types differ in a way that needs no format.
/// </summary>
/// <param name="From">The source contract name.</param>
/// <param name="Fields">How destination fields are filled.</param>
/// <param name="Location">Where it was written.</param>
public sealed record MapSpec(string From, IReadOnlyList<FieldMapSpec> Fields, SpecLocation? Location = null);
