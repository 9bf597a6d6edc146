namespace Tether.Nats.Tests;

/// <summary>
/// The collection of tests that must not run beside others: the ones that time failure detection or deadlines, and the
/// heavy ones that load the machine (CPU saturation, thousands of requests, node processes). xunit runs this collection
/// alone, after the parallel ones, so a heavy test never makes a timing test's bound fail on these 2 cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Exclusive
{
    public const string Name = "exclusive: timing-sensitive and heavy tests, never beside others";
}
