namespace Tether.Tests.TestSupport;

/// <summary>
/// Tests that measure the whole process (heap size, a million targets) run in this collection: xUnit runs it
/// after the parallel collections, alone, so no other test disturbs the measurement or competes for memory.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial: whole-process measurements";
}
