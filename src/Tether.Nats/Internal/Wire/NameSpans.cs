namespace Tether.Nats.Internal;

/// <summary>Where the names lie in an encoded frame (offsets from its start; a length of 0: not to be replaced).</summary>
internal readonly record struct NameSpans(int NodeAt, int NodeLength, int ContractAt, int ContractLength);
