using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Tether.Demo.Tests;

/// <summary><c>tether demo</c> as users run it: a real process, stopped with SIGTERM, leaving nothing behind.</summary>
public sealed partial class DemoCommandTests
{
    // Three .NET processes and a broker starting while other builds share the 2 cores: minutes, not seconds, at worst.
    private static readonly TimeSpan s_start = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan s_stop = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Demo_Embedded_PrintsWhatItStartedAndStopsOnSigterm()
    {
        using var folder = new TempFolder();
        using var demo = new CliProcess(folder, "demo", "--db", folder.File("demo.db"), "--port", "8123");

        await demo.WaitForLine("Press Ctrl+C to stop.", s_start);
        demo.Terminate();

        Assert.Equal(0, await demo.ExitCode(s_stop));
        string output = demo.Output;
        Assert.Contains("as service \"supplier\"", output, StringComparison.Ordinal);
        Assert.Contains("as service \"orders\"", output, StringComparison.Ordinal);
        Assert.Contains("catalogue: 10,000 products", output, StringComparison.Ordinal);
        Assert.Contains("http://127.0.0.1:8123", output, StringComparison.Ordinal);
        Assert.Contains("tether demo: stopping.", output, StringComparison.Ordinal);
        Assert.True(File.Exists(folder.File("demo.db")), "the SQLite file was not created where --db said");
    }

    [Fact]
    public async Task Demo_ThreeNodes_MeetThroughTheirOwnNatsServerAndAllStopOnSigterm()
    {
        using var folder = new TempFolder();
        using var demo = new CliProcess(folder, "demo", "--nodes", "3", "--db", folder.File("demo.db"), "--port", "0");

        await demo.WaitForLine("All three nodes are up. Press Ctrl+C to stop.", s_start);
        int[] children = demo.Children();
        int natsPort = int.Parse(NatsUrl().Match(demo.Output).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(4, children.Length); // nats-server and three nodes
        Assert.Contains("[dialogs] reached the supplier on node demo-supplier through NATS", demo.Output, StringComparison.Ordinal);
        Assert.Contains("[web] reached the supplier on node demo-supplier through NATS", demo.Output, StringComparison.Ordinal);
        Assert.Contains("[supplier]   node demo-supplier: supplier (SQLite", demo.Output, StringComparison.Ordinal);
        Assert.Contains("[dialogs]   node demo-dialogs: order desk as service \"orders\"", demo.Output, StringComparison.Ordinal);
        demo.Terminate();

        Assert.Equal(0, await demo.ExitCode(s_stop));
        Assert.All(children, pid => Assert.False(CliProcess.IsAlive(pid), $"process {pid} started by `tether demo --nodes 3` is still running"));
        using var probe = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, natsPort));
    }

    [Fact]
    public async Task Demo_OneRoleOnItsOwn_JoinsAGivenNatsServerUntilSigterm()
    {
        using var folder = new TempFolder();
        using NatsServer nats = await NatsServer.StartAsync(jetStream: true);
        using var supplier = new CliProcess(folder, "demo", "--role", "supplier", "--name", "pod-supplier", "--nats", nats.Url, "--db", folder.File("demo.db"));
        using var dialogs = new CliProcess(folder, "demo", "--role", "dialogs", "--name", "pod-dialogs", "--nats", nats.Url);

        await supplier.WaitForLine("Node pod-supplier is up. Press Ctrl+C to stop.", s_start);
        await dialogs.WaitForLine("Node pod-dialogs is up. Press Ctrl+C to stop.", s_start);
        Assert.Contains("reached the supplier on node pod-supplier through NATS", dialogs.Output, StringComparison.Ordinal);
        dialogs.Terminate();
        supplier.Terminate();

        Assert.Equal(0, await dialogs.ExitCode(s_stop));
        Assert.Equal(0, await supplier.ExitCode(s_stop));
    }

    [Fact]
    public async Task Demo_UnusableDatabase_FailsWithAClearMessage()
    {
        using var folder = new TempFolder();
        using var demo = new CliProcess(folder, "demo", "--postgres", "Host=127.0.0.1;Port=1;Username=nobody;Database=none;Timeout=2");

        Assert.Equal(1, await demo.ExitCode(s_start));
        Assert.Contains("tether demo: ", demo.Output, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:1", demo.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"nats-server nats://127\.0\.0\.1:(\d+)")]
    private static partial Regex NatsUrl();

    /// <summary>The built command line (Tether.Cli.dll beside the tests) in its own process; killed with what it started if a test fails.</summary>
    private sealed class CliProcess : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _lines = [];
        private readonly HashSet<int> _children = [];

        public CliProcess(TempFolder folder, params string[] arguments)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true, // never the terminal's: the test runner's input must not reach it
                WorkingDirectory = folder.Path,
            };
            start.ArgumentList.Add(Path.Join(AppContext.BaseDirectory, "Tether.Cli.dll"));
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            _process = Process.Start(start) ?? throw new InvalidOperationException("could not start `tether demo`");
            _process.OutputDataReceived += (_, e) => Seen(e.Data);
            _process.ErrorDataReceived += (_, e) => Seen(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Output
        {
            get
            {
                lock (_lines)
                {
                    return string.Join('\n', _lines);
                }
            }
        }

        public async Task WaitForLine(string line, TimeSpan deadline)
        {
            long start = Stopwatch.GetTimestamp();
            while (!Output.Contains(line, StringComparison.Ordinal))
            {
                Assert.False(_process.HasExited, $"`tether demo` exited (code {(_process.HasExited ? _process.ExitCode : 0)}) before printing \"{line}\":\n{Output}");
                Assert.True(Stopwatch.GetElapsedTime(start) < deadline, $"`tether demo` did not print \"{line}\" within {deadline.TotalSeconds:F0} s:\n{Output}");
                await Task.Delay(50); // polling the output with a deadline
            }
        }

        /// <summary>The processes this one started (their parent is it), remembered so a failed test still kills them.</summary>
        public int[] Children()
        {
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out int pid) && ParentOf(pid) == _process.Id)
                {
                    _children.Add(pid);
                }
            }

            return [.. _children];
        }

        public void Terminate() => Assert.Equal(0, Kill(_process.Id, 15 /* SIGTERM */));

        public async Task<int> ExitCode(TimeSpan deadline)
        {
            try
            {
                await _process.WaitForExitAsync().WaitAsync(deadline);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"`tether demo` did not stop within {deadline.TotalSeconds:F0} s of SIGTERM:\n{Output}");
            }

            return _process.ExitCode;
        }

        public static bool IsAlive(int pid)
        {
            try
            {
                // A zombie (exited, not yet reaped by a parent that is gone) counts as stopped.
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        public void Dispose()
        {
            foreach (int pid in _children)
            {
                if (IsAlive(pid))
                {
                    _ = Kill(pid, 9);
                }
            }

            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }

            _process.Dispose();
        }

        private static int ParentOf(int pid)
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return -1;
            }
        }

        private void Seen(string? line)
        {
            if (line is not null)
            {
                lock (_lines)
                {
                    _lines.Add(line);
                }
            }
        }

        private static int Kill(int pid, int signal) => Tmds.Linux.LibC.kill(pid, signal);
    }
}
