using System.Security.Cryptography;

namespace Tether.Cli.Hashing;

/// <summary>A file's digest, or why it could not be read; sent by a <see cref="FileJob"/> to the collector.</summary>
internal sealed record FileHashed(string RelativePath, byte[]? Digest, string? Error);

/// <summary>Asks the collector for everything it gathered.</summary>
internal sealed record GetResults : IRequest<IReadOnlyList<FileHashed>>
{
    public static readonly GetResults Instance = new();
}

/// <summary>Gathers results from the file jobs (one turn at a time, so a plain list is safe).</summary>
internal sealed class HashCollector : Target, ITarget<HashCollector>
{
    private readonly List<FileHashed> _results = [];

    public static void Wire(Channels<HashCollector> channels) => channels
        .On<FileHashed>(static (self, m, _) => self._results.Add(m))
        .Request<GetResults, IReadOnlyList<FileHashed>>(static (self, _, _) => self._results);
}

/// <summary>Lists one directory: a follow-up job per subdirectory and per regular file. Symbolic links are not followed.</summary>
internal sealed class DirectoryJob(string root, string relative, Address collector) : Job
{
    private static readonly EnumerationOptions s_options = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = false,
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
    };

    public override string Name => relative.Length == 0 ? "." : relative;

    public override ValueTask RunAsync(JobContext context)
    {
        string path = relative.Length == 0 ? root : Path.Join(root, relative);
        try
        {
            foreach (FileSystemInfo entry in new DirectoryInfo(path).EnumerateFileSystemInfos("*", s_options))
            {
                context.Cancellation.ThrowIfCancellationRequested();
                if (entry.LinkTarget is not null)
                {
                    continue; // a symbolic link: like `find -type f`, neither followed nor listed
                }

                string child = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
                if (entry is DirectoryInfo)
                {
                    context.Submit(new DirectoryJob(root, child, collector));
                }
                else
                {
                    context.Submit(new FileJob(root, child, collector));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Target.Send(collector, new FileHashed(relative.Length == 0 ? "." : relative, null, Describe(ex)));
        }

        return ValueTask.CompletedTask;
    }

    internal static string Describe(Exception ex) => ex switch
    {
        UnauthorizedAccessException => "Permission denied",
        FileNotFoundException or DirectoryNotFoundException => "No such file or directory",
        _ => ex.Message,
    };
}

/// <summary>Hashes one regular file with SHA-256.</summary>
internal sealed class FileJob(string root, string relative, Address collector) : Job
{
    private const int BufferSize = 1 << 20;

    public override string Name => relative;

    public override async ValueTask RunAsync(JobContext context)
    {
        byte[] digest;
        try
        {
            using var stream = new FileStream(Path.Join(root, relative), new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite,
                BufferSize = 0,
                Options = FileOptions.SequentialScan,
            });
            digest = stream.Length <= BufferSize
                ? SHA256.HashData(stream)
                : await SHA256.HashDataAsync(stream, context.Cancellation).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Target.Send(collector, new FileHashed(relative, null, DirectoryJob.Describe(ex)));
            return;
        }

        context.Target.Send(collector, new FileHashed(relative, digest, null));
    }
}
