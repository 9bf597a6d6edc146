namespace Tether.Cli.Hashing;

/// <summary>One output line: a file's path relative to the root (UTF-8) and its digest, or why it could not be read.</summary>
internal struct HashedFile(byte[] path, string? error)
{
    public readonly byte[] Path = path;
    public readonly string? Error = error;
    public Sha256Digest Digest;
}
