namespace Tether.Internal;

internal sealed record JobFinished(Address Job, string Name, string? Error);
