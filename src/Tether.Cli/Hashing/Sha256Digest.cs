using System.Runtime.CompilerServices;

namespace Tether.Cli.Hashing;

/// <summary>A SHA-256 digest, inline (no array per file).</summary>
[InlineArray(32)]
internal struct Sha256Digest
{
    private byte _first;
}
