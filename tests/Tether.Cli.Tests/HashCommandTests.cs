using System.Diagnostics;
using System.Text;
using Tether.Cli.Hashing;

namespace Tether.Cli.Tests;

public sealed class HashCommandTests
{
    private static async Task<(int ExitCode, byte[] Stdout, string Stderr)> HashAsync(string dir, int jobs = 4)
    {
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int code = await HashCommand.RunAsync(dir, jobs, stdout, stderr, showProgress: false, CancellationToken.None)
            .WaitAsync(TimeSpan.FromMinutes(3));
        return (code, stdout.ToArray(), stderr.ToString());
    }

    [Fact]
    public async Task Hash_MixedTree_MatchesSha256SumByteForByte()
    {
        using var tree = new TempTree();
        var random = new Random(7);
        byte[] Bytes(int n)
        {
            byte[] b = new byte[n];
            random.NextBytes(b);
            return b;
        }

        tree.Write("top.txt", "hello\n"u8.ToArray());
        tree.Write("empty", []);
        tree.Write("nested/empty too", []);
        tree.Write("with space/file name.bin", Bytes(5000));
        tree.Write("ünïcødé/ファイル.txt", Bytes(17));
        tree.Write("ünïcødé/Ωmega", Bytes(1));
        tree.Write("a/b/c/d/e/deep.dat", Bytes(70_000));
        tree.Write("back\\slash", Bytes(3));
        tree.Write("new\nline", Bytes(4));
        tree.Write("carriage\rreturn", Bytes(5));
        tree.Write("Zed", Bytes(6));
        tree.Write("zed", Bytes(7));
        for (int i = 0; i < 300; i++)
        {
            tree.Write($"many/dir{i % 17}/file{i}.dat", Bytes(random.Next(0, 20_000)));
        }

        // 100 MB, written in chunks to keep the test's own memory small.
        string big = Path.Join(tree.Root, "big", "hundred-megabytes.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(big)!);
        using (FileStream stream = File.Create(big))
        {
            byte[] chunk = Bytes(1 << 20);
            for (int i = 0; i < 100; i++)
            {
                chunk[i] ^= 0x5A;
                stream.Write(chunk);
            }
        }

        File.CreateSymbolicLink(Path.Join(tree.Root, "link-to-file"), "top.txt");
        File.CreateSymbolicLink(Path.Join(tree.Root, "many", "link-to-dir"), Path.Join(tree.Root, "a"));
        File.CreateSymbolicLink(Path.Join(tree.Root, "dangling"), "/nonexistent/target");

        byte[] expected = tree.Sha256Sum();
        (int code, byte[] stdout, string stderr) = await HashAsync(tree.Root);

        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        Assert.Equal(TempTree.Text(expected), TempTree.Text(stdout));
        Assert.Equal(expected, stdout);
        Assert.Equal(300 + 13, TempTree.Text(stdout).Count(c => c == '\n')); // 313 files, one line each: the name with a newline is escaped, not split
    }

    [Fact]
    public async Task Hash_FifoAndSocketBesideFiles_AreSkippedLikeFindTypeF()
    {
        using var tree = new TempTree();
        tree.Write("a.txt", "hello\n"u8.ToArray());
        tree.Write("sub/empty", []);
        using (Process mkfifo = Process.Start("mkfifo", Path.Join(tree.Root, "sub", "pipe")))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Join(tree.Root, "sock")));

        // Opening the FIFO would block for ever: a hang here is the failure.
        (int code, byte[] stdout, string stderr) = await HashAsync(tree.Root).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        Assert.Equal(TempTree.Text(tree.Sha256Sum()), TempTree.Text(stdout));
        Assert.Equal(2, TempTree.Text(stdout).Count(c => c == '\n')); // a.txt and the empty regular file, nothing else
    }

    [Fact]
    public async Task Hash_EmptyDirectory_PrintsNothingAndSucceeds()
    {
        using var tree = new TempTree();
        Directory.CreateDirectory(Path.Join(tree.Root, "only", "folders"));
        (int code, byte[] stdout, string stderr) = await HashAsync(tree.Root);
        Assert.Equal(0, code);
        Assert.Empty(stdout);
        Assert.Equal("", stderr);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(64)]
    public async Task Hash_AnyJobCap_GivesTheSameOutput(int jobs)
    {
        using var tree = new TempTree();
        for (int i = 0; i < 500; i++)
        {
            tree.Write($"d{i % 23}/e{i % 5}/f{i}", Encoding.UTF8.GetBytes($"content {i}"));
        }

        (int code, byte[] stdout, _) = await HashAsync(tree.Root, jobs);
        Assert.Equal(0, code);
        Assert.Equal(tree.Sha256Sum(), stdout);
    }

    [Fact]
    public void WriteLine_NameWithBackslashNewlineAndReturn_IsEscapedLikeCoreutils()
    {
        using var output = new MemoryStream();
        HashCommand.WriteLine(output, new byte[32], "a\\b\nc\rd"u8.ToArray());
        Assert.Equal("\\" + new string('0', 64) + "  a\\\\b\\nc\\rd\n", Encoding.UTF8.GetString(output.ToArray()));
    }
}
