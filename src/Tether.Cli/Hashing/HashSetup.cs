namespace Tether.Cli.Hashing;

/// <summary>What every job of one run shares.</summary>
internal sealed record HashSetup(Address Collector, HashTuning Tuning);
