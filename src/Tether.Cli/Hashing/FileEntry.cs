namespace Tether.Cli.Hashing;

/// <summary>A regular file found by a <see cref="DirectoryJob"/>: where to open it, its output path (UTF-8) and its size when listed.</summary>
internal readonly record struct FileEntry(string FullPath, byte[] Path, long Length);
