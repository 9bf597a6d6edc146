namespace Tether.Cli.Hashing;

/// <summary>How coarse the jobs are. The defaults suit many small files as well as a few large ones.</summary>
internal sealed record HashTuning
{
    public static readonly HashTuning Default = new();

    /// <summary>A file larger than this many bytes gets a job of its own; smaller ones are hashed by their directory's jobs.</summary>
    public long SmallFileLimit { get; init; } = 1 << 20;

    /// <summary>The most small files one job hashes.</summary>
    public int ChunkFiles { get; init; } = 512;

    /// <summary>The most bytes of small files one job hashes (a single file may exceed it, up to <see cref="SmallFileLimit"/>).</summary>
    public long ChunkBytes { get; init; } = 4 << 20;

    /// <summary>How many bytes a large file's job reads at a time (small enough to stay in the CPU's cache while it is hashed).</summary>
    public int LargeReadSize { get; init; } = 256 << 10;
}
