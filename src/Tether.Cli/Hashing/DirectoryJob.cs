using System.IO.Enumeration;
using System.Text;

namespace Tether.Cli.Hashing;

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
