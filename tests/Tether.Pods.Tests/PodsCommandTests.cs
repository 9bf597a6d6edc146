using Tether.Cli.Pods;

namespace Tether.Pods.Tests;

/// <summary>`tether pods up` / `down` as a user runs them (real processes, real namespaces).</summary>
[Collection(PodsCollection.Name)]
public sealed class PodsCommandTests
{
    private static string[] Namespaces(string runId)
        => File.Exists("/usr/sbin/ip") || File.Exists("/usr/bin/ip")
            ? Repo.Run("ip", "/", TimeSpan.FromSeconds(10), "netns", "list").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ')[0]).Where(n => n.StartsWith($"tpod-{runId}-", StringComparison.Ordinal)).ToArray()
            : throw new InvalidOperationException("the `ip` command (iproute2) is missing");

    [Fact]
    public async Task UpThenDown_PrintsTheWebPageAndLeavesNoNamespaceOrProcess()
    {
        string runDir = Directory.CreateTempSubdirectory("tether-pods-cli-").FullName;
        try
        {
            using var up = new CliProcess(["pods", "up", "--layout", Repo.Path("deploy", "layouts", "two-pod.json"), "--run-dir", runDir, "--module", typeof(PodsModule).Assembly.Location]);
            Assert.True(await up.ExitAsync(TimeSpan.FromMinutes(2)) == 0, up.Output);
            RunState state = RunState.Read(runDir) ?? throw new Xunit.Sdk.XunitException("no state after up:\n" + up.Output);
            Assert.Contains($"web page: http://{LocalPods.Subnet}.11:{PodCommandLine.WebPort}/", up.Output, StringComparison.Ordinal);
            Assert.Equal(state.Namespaces.Order(StringComparer.Ordinal), Namespaces(state.RunId).Order(StringComparer.Ordinal));
            Assert.Equal(1 + LocalPods.HubCount + 2, state.Namespaces.Count);
            Assert.All(state.Processes, p => Assert.True(HostCommands.StartTimeOf(p.Pid) == p.StartTime, $"{p.Name} (pid {p.Pid}) is not running after up"));
            Assert.Equal(LocalPods.HubCount + 2 * 2, state.Processes.Count); // hubs; per pod a leaf and a node

            using var down = new CliProcess(["pods", "down", "--run-dir", runDir]);
            Assert.True(await down.ExitAsync(TimeSpan.FromMinutes(1)) == 0, down.Output);
            Assert.Contains($"removed run {state.RunId}", down.Output, StringComparison.Ordinal);
            Assert.Empty(Namespaces(state.RunId));
            await PodsRun.Until(() => state.Processes.All(p => HostCommands.StartTimeOf(p.Pid) != p.StartTime || IsZombie(p.Pid)), "every process of the run gone", TimeSpan.FromSeconds(10));
            Assert.Null(RunState.Read(runDir));
        }
        finally
        {
            LocalPods.Down(runDir);
            Directory.Delete(runDir, recursive: true);
        }
    }

    [Fact]
    public async Task UpKilledHalfWay_DownRemovesWhatItMade()
    {
        string runDir = Directory.CreateTempSubdirectory("tether-pods-crash-").FullName;
        try
        {
            using var up = new CliProcess(["pods", "up", "--layout", Repo.Path("deploy", "layouts", "three-pod.json"), "--run-dir", runDir, "--module", typeof(PodsModule).Assembly.Location]);
            // Kill it once it has made the hub and started processes, before the pods are all up.
            await PodsRun.Until(() => (ReadState(runDir)?.Processes.Count ?? 0) >= LocalPods.HubCount + 1, "up starting its first processes", TimeSpan.FromMinutes(1));
            up.Kill();
            RunState state = RunState.Read(runDir)!;
            Assert.NotEmpty(Namespaces(state.RunId));

            using var down = new CliProcess(["pods", "down", "--run-dir", runDir]);
            Assert.True(await down.ExitAsync(TimeSpan.FromMinutes(1)) == 0, down.Output);
            Assert.Empty(Namespaces(state.RunId));
            await PodsRun.Until(() => state.Processes.All(p => HostCommands.StartTimeOf(p.Pid) != p.StartTime || IsZombie(p.Pid)), "every process of the crashed run gone", TimeSpan.FromSeconds(10));
        }
        finally
        {
            LocalPods.Down(runDir);
            Directory.Delete(runDir, recursive: true);
        }
    }

    [Fact]
    public async Task Up_WithoutRoot_SaysWhatIsMissingAndExitsNonZero()
    {
        Assert.True(File.Exists("/usr/bin/setpriv"), "setpriv (util-linux) is needed to run the CLI as an unprivileged user");
        // The test's output folder may be closed to other users: copy the program out.
        string app = Directory.CreateTempSubdirectory("tether-pods-nobody-").FullName;
        try
        {
            File.SetUnixFileMode(app, (UnixFileMode)0b111_101_101);
            foreach (string file in Directory.EnumerateFiles(AppContext.BaseDirectory, "*", SearchOption.AllDirectories))
            {
                string to = Path.Join(app, Path.GetRelativePath(AppContext.BaseDirectory, file));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(file, to);
            }

            foreach (string dir in Directory.EnumerateDirectories(app, "*", SearchOption.AllDirectories))
            {
                File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
            }

            using var up = new CliProcess(["pods", "up", "--layout", Repo.Path("deploy", "layouts", "one-pod.json"), "--run-dir", Path.Join(app, "run"), "--module", Path.Join(app, "Tether.Pods.Tests.dll")], new Dictionary<string, string> { ["HOME"] = app }, user: "65534", appDir: app);
            int code = await up.ExitAsync(TimeSpan.FromMinutes(1));
            Assert.True(code == 77, $"exit code {code}:\n{up.Output}");
            Assert.Contains("local pods need root (CAP_NET_ADMIN and CAP_SYS_ADMIN", up.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
    }

    private static RunState? ReadState(string runDir)
    {
        try
        {
            return RunState.Read(runDir);
        }
        catch (Exception ex) when (ex is IOException or LocalPodsException)
        {
            return null; // being written
        }
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] == 'Z';
        }
        catch (IOException)
        {
            return true;
        }
    }
}
