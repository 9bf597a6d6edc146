using System.Runtime.InteropServices;
using System.Text;
using Spectre.Console;

namespace Tether.Cli.Hashing;

/// <summary>
/// <c>tether hash DIR</c>: SHA-256 of every regular file under DIR, in <c>sha256sum</c>'s format, sorted by path in
/// byte order. A job target per directory (which hashes its small files itself, in chunks) and per large file;
/// at most <c>--jobs</c> run at once.
/// </summary>
internal static class HashCommand
{
    /// <summary>Runs the command; returns the exit code (0 all hashed, 1 some file could not be read).</summary>
    public static async Task<int> RunAsync(string directory, int jobs, Stream stdout, TextWriter stderr, bool showProgress, CancellationToken cancellation)
        => (await RunAsync(directory, jobs, stdout, stderr, showProgress, HashTuning.Default, cancellation)).ExitCode;

    /// <summary>Runs the command with chosen job sizes (tests use small ones); returns the exit code and the job engine's summary.</summary>
    internal static async Task<(int ExitCode, JobSummary Summary)> RunAsync(string directory, int jobs, Stream stdout, TextWriter stderr, bool showProgress, HashTuning tuning, CancellationToken cancellation)
    {
        string root = Path.GetFullPath(directory);
        await using Node node = Node.Create(new NodeOptions { Name = "hash", DefaultRequestTimeout = TimeSpan.FromMinutes(5) });
        Address collector = node.Spawn(static () => new HashCollector(), new SpawnOptions { MailboxCapacity = int.MaxValue });
        JobEngine engine = JobEngine.Start(node, new JobEngineOptions { MaxActive = jobs });
        using CancellationTokenRegistration onCancel = cancellation.Register(engine.Cancel);
        engine.Submit(new DirectoryJob(root, [], new HashSetup(collector, tuning)));
        engine.Complete();

        JobSummary summary = showProgress ? await WithProgressAsync(engine) : await engine.Completion;
        List<HashedFile> results = await node.Request(collector, GetResults.Instance);
        CollectionsMarshal.AsSpan(results).Sort(static (a, b) => a.Path.AsSpan().SequenceCompareTo(b.Path));

        int exitCode = 0;
        using (var output = new BufferedStream(stdout, 1 << 16))
        {
            foreach (HashedFile result in results)
            {
                if (result.Error is not null)
                {
                    await stderr.WriteLineAsync($"tether hash: {Encoding.UTF8.GetString(result.Path)}: {result.Error}");
                    exitCode = 1;
                    continue;
                }

                WriteLine(output, result.Digest, result.Path);
            }
        }

        foreach (JobFailure failure in summary.Failures)
        {
            await stderr.WriteLineAsync($"tether hash: {failure.Job}: {failure.Error}");
            exitCode = 1;
        }

        if (summary.Cancelled)
        {
            await stderr.WriteLineAsync("tether hash: cancelled");
            return (130, summary);
        }

        return (exitCode, summary);
    }

    /// <summary>Writes one line exactly as GNU sha256sum does, escaping '\\', '\n' and '\r' in names with a leading backslash.</summary>
    internal static void WriteLine(Stream output, ReadOnlySpan<byte> digest, byte[] path)
    {
        bool escape = path.AsSpan().IndexOfAny((byte)'\\', (byte)'\n', (byte)'\r') >= 0;
        Span<byte> hex = stackalloc byte[1 + 64 + 2];
        int at = 0;
        if (escape)
        {
            hex[at++] = (byte)'\\';
        }

        Convert.TryToHexStringLower(digest, hex[at..], out int written);
        at += written;
        hex[at++] = (byte)' ';
        hex[at++] = (byte)' ';
        output.Write(hex[..at]);
        if (!escape)
        {
            output.Write(path);
        }
        else
        {
            foreach (byte b in path)
            {
                switch (b)
                {
                    case (byte)'\\':
                        output.Write("\\\\"u8);
                        break;
                    case (byte)'\n':
                        output.Write("\\n"u8);
                        break;
                    case (byte)'\r':
                        output.Write("\\r"u8);
                        break;
                    default:
                        output.WriteByte(b);
                        break;
                }
            }
        }

        output.WriteByte((byte)'\n');
    }

    private static async Task<JobSummary> WithProgressAsync(JobEngine engine)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        JobSummary? summary = null;
        await console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                ProgressTask task = progress.AddTask("hashing", maxValue: 1);
                while (true)
                {
                    JobProgress now = engine.Progress;
                    task.MaxValue = Math.Max(1, now.Total);
                    task.Value = now.Done + now.Failed;
                    task.Description = $"hashing {now.Done + now.Failed:N0}/{now.Total:N0}";
                    Task finished = await Task.WhenAny(engine.Completion, Task.Delay(TimeSpan.FromMilliseconds(100))); // a screen refresh, not synchronisation
                    if (finished == engine.Completion)
                    {
                        summary = await engine.Completion;
                        task.Value = task.MaxValue;
                        return;
                    }
                }
            });
        return summary!;
    }
}
