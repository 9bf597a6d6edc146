using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Tether.Cli.Hashing;

namespace Tether.Cli.Tests;

/// <summary>Small files are hashed by their directory's jobs in chunks, large files by a job each; the output never changes.</summary>
public sealed class HashBatchingTests
{
    private static readonly HashTuning s_tiny = new() { SmallFileLimit = 1000, ChunkFiles = 4, ChunkBytes = 3000, LargeReadSize = 64 };

    private static async Task<(int ExitCode, byte[] Stdout, string Stderr, JobSummary Summary)> HashAsync(string dir, HashTuning tuning, int jobs = 4)
    {
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        (int code, JobSummary summary) = await HashCommand.RunAsync(dir, jobs, stdout, stderr, showProgress: false, tuning, CancellationToken.None)
            .WaitAsync(TimeSpan.FromMinutes(3));
        return (code, stdout.ToArray(), stderr.ToString(), summary);
    }

    private static byte[] Bytes(int n, int seed)
    {
        byte[] b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static FileEntry Entry(long length) => new("/nonexistent", [], length);

    [Fact]
    public void Chunk_SplitsAtTheFileCountAndAtTheByteBudget()
    {
        var tuning = new HashTuning { SmallFileLimit = 1000, ChunkFiles = 3, ChunkBytes = 100 };

        Assert.Empty(DirectoryJob.Chunk([], tuning));
        Assert.Equal([3, 3, 1], DirectoryJob.Chunk([.. Enumerable.Range(0, 7).Select(_ => Entry(1))], tuning).Select(c => c.Length));
        Assert.Equal([2], DirectoryJob.Chunk([Entry(50), Entry(50)], tuning).Select(c => c.Length));       // exactly the budget: one chunk
        Assert.Equal([3], DirectoryJob.Chunk([Entry(50), Entry(50), Entry(0)], tuning).Select(c => c.Length));    // an empty file still fits
        Assert.Equal([2, 1], DirectoryJob.Chunk([Entry(50), Entry(50), Entry(1)], tuning).Select(c => c.Length)); // one byte more does not
        Assert.Equal([1, 1], DirectoryJob.Chunk([Entry(50), Entry(51)], tuning).Select(c => c.Length));    // one byte over: a new chunk
        Assert.Equal([1, 1, 1], DirectoryJob.Chunk([Entry(1000), Entry(1000), Entry(1000)], tuning).Select(c => c.Length)); // a file over the budget has a chunk to itself
    }

    [Fact]
    public async Task Hash_SmallAndLargeFilesMixed_AtTheThreshold_MatchesSha256SumWithCoarseJobs()
    {
        using var tree = new TempTree();
        int[] sizes = [0, 1, 63, 64, 65, 999, 1000, 1001, 1999, 4096, 10_000];
        for (int i = 0; i < sizes.Length; i++)
        {
            tree.Write($"mixed/size-{sizes[i]}", Bytes(sizes[i], i));
        }

        for (int i = 0; i < 10; i++)
        {
            tree.Write($"mixed/sub/small-{i}", Bytes(100 + i, 100 + i));
        }

        tree.Write("only-large/a", Bytes(1001, 7));
        tree.Write("top", Bytes(10, 8));

        (int code, byte[] stdout, string stderr, JobSummary summary) = await HashAsync(tree.Root, s_tiny);

        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        Assert.Equal(TempTree.Text(tree.Sha256Sum()), TempTree.Text(stdout));
        // Directories: root, mixed, mixed/sub, only-large = 4 jobs. Large files (> 1000 bytes): 1001, 1999, 4096, 10000, only-large/a = 5 jobs.
        // mixed's 7 small files (0 to 1000 bytes, 2192 in all; at most 4 files and 3000 bytes a chunk): 2 chunks = 1 extra job;
        // mixed/sub's 10 files: 3 chunks = 2 extra jobs; root (top) and only-large: none.
        Assert.Equal(4 + 5 + 1 + 2, summary.Progress.Total);
        Assert.Equal(summary.Progress.Total, summary.Progress.Done);
    }

    [Fact]
    public async Task Hash_DefaultThreshold_OneMebibyteIsSmallOneMoreByteIsLarge()
    {
        using var tree = new TempTree();
        tree.Write("at-limit", Bytes(1 << 20, 1));
        tree.Write("over-limit", Bytes((1 << 20) + 1, 2));
        tree.Write("small", Bytes(5, 3));

        (int code, byte[] stdout, string stderr, JobSummary summary) = await HashAsync(tree.Root, HashTuning.Default);

        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        Assert.Equal(tree.Sha256Sum(), stdout);
        Assert.Equal(2, summary.Progress.Total); // the root (hashing at-limit and small itself) and one job for over-limit
    }

    [Fact]
    public async Task Hash_ManySmallFilesInOneFolder_AreSplitIntoChunksAndSortedLikeSha256Sum()
    {
        using var tree = new TempTree();
        for (int i = 0; i < 1000; i++)
        {
            tree.Write($"flat/f{i}", Bytes(i % 50, i));
        }

        (int code, byte[] stdout, _, JobSummary summary) = await HashAsync(tree.Root, s_tiny, jobs: 2);

        Assert.Equal(0, code);
        Assert.Equal(tree.Sha256Sum(), stdout);
        Assert.Equal(2 + 249, summary.Progress.Total); // root, flat, and 249 more chunks of 4 after the one flat hashes itself
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(100, 100)]    // as listed
    [InlineData(100, 40)]     // grown since it was listed
    [InlineData(100, 300)]    // shrunk since it was listed
    [InlineData(128, 128)]    // exactly the buffer: one incremental round, then a read of 0
    [InlineData(129, 129)]
    [InlineData(1000, 1000)]
    public void FileHasher_ReadsToTheEndWhateverTheListingSaid(int size, long listed)
    {
        using var tree = new TempTree();
        byte[] content = Bytes(size, size);
        string path = tree.Write("f", content);
        Span<byte> digest = stackalloc byte[32];
        using (SafeFileHandle handle = File.OpenHandle(path))
        {
            FileHasher.Hash(handle, listed, new byte[128], digest);
        }

        Assert.Equal(SHA256.HashData(content), digest.ToArray());
    }
}
