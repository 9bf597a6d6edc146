using System.Buffers;
using System.Text;

namespace Tether.Cli.Hashing;

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
