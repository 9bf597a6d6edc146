using System.Buffers;
using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

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

/// <summary>A SHA-256 digest, inline (no array per file).</summary>
[InlineArray(32)]
internal struct Sha256Digest
{
    private byte _first;
}

/// <summary>One output line: a file's path relative to the root (UTF-8) and its digest, or why it could not be read.</summary>
internal struct HashedFile(byte[] path, string? error)
{
    public readonly byte[] Path = path;
    public readonly string? Error = error;
    public Sha256Digest Digest;
}

/// <summary>The results of one job, sent to the collector in one message.</summary>
internal sealed record FilesHashed(HashedFile[] Files);

/// <summary>Asks the collector for everything it gathered.</summary>
internal sealed record GetResults : IRequest<List<HashedFile>>
{
    public static readonly GetResults Instance = new();
}

/// <summary>Gathers results from the jobs (one turn at a time, so a plain list is safe).</summary>
internal sealed class HashCollector : Target, ITarget<HashCollector>
{
    private readonly List<HashedFile> _results = [];

    public static void Wire(Channels<HashCollector> channels) => channels
        .On<FilesHashed>(static (self, m, _) => self._results.AddRange(m.Files))
        .Request<GetResults, List<HashedFile>>(static (self, _, _) => self._results);
}

/// <summary>A regular file found by a <see cref="DirectoryJob"/>: where to open it, its output path (UTF-8) and its size when listed.</summary>
internal readonly record struct FileEntry(string FullPath, byte[] Path, long Length);

/// <summary>What every job of one run shares.</summary>
internal sealed record HashSetup(Address Collector, HashTuning Tuning);

/// <summary>
/// Lists one directory: a follow-up job per subdirectory and per large file, and hashes its small files itself, in
/// chunks (the first chunk in this job, each further chunk in a <see cref="SmallFilesJob"/>). Symbolic links are not followed.
/// </summary>
internal sealed class DirectoryJob(string fullPath, byte[] path, HashSetup setup) : Job
{
    private static readonly EnumerationOptions s_options = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = false,
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
    };

    public override string Name => path.Length == 0 ? "." : Encoding.UTF8.GetString(path);

    public override ValueTask RunAsync(JobContext context)
    {
        HashTuning tuning = setup.Tuning;
        byte[] prefix = path.Length == 0 ? [] : [.. path, (byte)'/'];
        var small = new List<FileEntry>();
        try
        {
            var entries = new FileSystemEnumerable<(string FullPath, byte[] Path, long Length, bool IsDirectory)>(
                fullPath,
                (ref FileSystemEntry entry) =>
                {
                    ReadOnlySpan<char> name = entry.FileName;
                    byte[] child = new byte[prefix.Length + Encoding.UTF8.GetByteCount(name)];
                    prefix.CopyTo(child, 0);
                    Encoding.UTF8.GetBytes(name, child.AsSpan(prefix.Length));
                    return (entry.ToFullPath(), child, entry.IsDirectory ? 0 : entry.Length, entry.IsDirectory);
                },
                s_options)
            {
                // A symbolic link: like `find -type f`, neither followed nor listed.
                ShouldIncludePredicate = static (ref FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) == 0,
            };

            foreach ((string childPath, byte[] child, long length, bool isDirectory) in entries)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                if (isDirectory)
                {
                    context.Submit(new DirectoryJob(childPath, child, setup));
                }
                else if (length > tuning.SmallFileLimit)
                {
                    context.Submit(new LargeFileJob(new FileEntry(childPath, child, length), setup));
                }
                else if (length > 0 || FileKind.IsRegularOrUnknown(childPath))
                {
                    small.Add(new FileEntry(childPath, child, length));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Target.Send(setup.Collector, new FilesHashed([new HashedFile(path.Length == 0 ? "."u8.ToArray() : path, Describe(ex))]));
        }

        List<FileEntry[]> chunks = Chunk(small, tuning);
        for (int i = 1; i < chunks.Count; i++)
        {
            context.Submit(new SmallFilesJob(chunks[i], setup));
        }

        if (chunks.Count > 0)
        {
            SmallFilesJob.Hash(chunks[0], setup, context);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Splits small files into chunks of at most <see cref="HashTuning.ChunkFiles"/> files and <see cref="HashTuning.ChunkBytes"/> bytes (a chunk always takes at least one file).</summary>
    internal static List<FileEntry[]> Chunk(List<FileEntry> files, HashTuning tuning)
    {
        var chunks = new List<FileEntry[]>();
        int start = 0;
        long bytes = 0;
        for (int i = 0; i < files.Count; i++)
        {
            int count = i - start;
            if (count > 0 && (count == tuning.ChunkFiles || bytes + files[i].Length > tuning.ChunkBytes))
            {
                chunks.Add(files.GetRange(start, count).ToArray());
                start = i;
                bytes = 0;
            }

            bytes += files[i].Length;
        }

        if (start < files.Count)
        {
            chunks.Add(files.GetRange(start, files.Count - start).ToArray());
        }

        return chunks;
    }

    internal static string Describe(Exception ex) => ex switch
    {
        UnauthorizedAccessException => "Permission denied",
        FileNotFoundException or DirectoryNotFoundException => "No such file or directory",
        _ => ex.Message,
    };
}

/// <summary>Hashes a chunk of small files one after another, with one buffer, and sends the digests in one message.</summary>
internal sealed class SmallFilesJob(FileEntry[] files, HashSetup setup) : Job
{
    public override string Name => $"{Encoding.UTF8.GetString(files[0].Path)} (+{files.Length - 1} files)";

    public override ValueTask RunAsync(JobContext context)
    {
        Hash(files, setup, context);
        return ValueTask.CompletedTask;
    }

    internal static void Hash(FileEntry[] files, HashSetup setup, JobContext context)
    {
        var results = new HashedFile[files.Length];
        // One more byte than the largest small file, so that a file read to the end never switches to incremental hashing.
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(setup.Tuning.SmallFileLimit + 1, Array.MaxLength));
        try
        {
            for (int i = 0; i < files.Length; i++)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                results[i] = FileHasher.Hash(files[i], buffer, FileOptions.None);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        context.Target.Send(setup.Collector, new FilesHashed(results));
    }
}

/// <summary>Hashes one large file with SHA-256.</summary>
internal sealed class LargeFileJob(FileEntry file, HashSetup setup) : Job
{
    public override string Name => Encoding.UTF8.GetString(file.Path);

    public override ValueTask RunAsync(JobContext context)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(setup.Tuning.LargeReadSize);
        HashedFile result;
        try
        {
            result = FileHasher.Hash(file, buffer.AsSpan(0, setup.Tuning.LargeReadSize), FileOptions.SequentialScan, context.Cancellation);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        context.Target.Send(setup.Collector, new FilesHashed([result]));
        return ValueTask.CompletedTask;
    }
}

/// <summary>Reads a file to its end and hashes it: in one call when it fits the buffer, incrementally when it does not.</summary>
internal static class FileHasher
{
    public static HashedFile Hash(FileEntry file, Span<byte> buffer, FileOptions options, CancellationToken cancellation = default)
    {
        var result = new HashedFile(file.Path, null);
        try
        {
            using SafeFileHandle handle = File.OpenHandle(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, options);
            Hash(handle, file.Length, buffer, result.Digest, cancellation);
            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new HashedFile(file.Path, DirectoryJob.Describe(ex));
        }
    }

    /// <summary>
    /// Hashes from offset 0 to the end of the file. A read that returns less than asked for and ends exactly at the size
    /// the listing saw is taken as the end (it saves a read that would return 0 on every small file); otherwise it reads
    /// until a read returns 0, so a file that grew or shrank since it was listed is still hashed whole.
    /// </summary>
    internal static void Hash(SafeFileHandle handle, long listedLength, Span<byte> buffer, Span<byte> digest, CancellationToken cancellation = default)
    {
        IncrementalHash? incremental = null;
        try
        {
            long offset = 0;
            int filled = 0;
            while (true)
            {
                int asked = buffer.Length - filled;
                int read = RandomAccess.Read(handle, buffer[filled..], offset);
                if (read == 0)
                {
                    break;
                }

                offset += read;
                filled += read;
                if (read < asked && offset == listedLength)
                {
                    break;
                }

                if (filled == buffer.Length)
                {
                    cancellation.ThrowIfCancellationRequested();
                    incremental ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    incremental.AppendData(buffer);
                    filled = 0;
                }
            }

            if (incremental is null)
            {
                SHA256.HashData(buffer[..filled], digest);
            }
            else
            {
                incremental.AppendData(buffer[..filled]);
                incremental.GetHashAndReset(digest);
            }
        }
        finally
        {
            incremental?.Dispose();
        }
    }
}
