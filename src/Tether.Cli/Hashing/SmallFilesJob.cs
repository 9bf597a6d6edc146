using System.Buffers;
using System.Text;

namespace Tether.Cli.Hashing;

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
