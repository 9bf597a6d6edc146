using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Tether.Cli.Pods;

/// <summary>
/// A layout run on this machine as pods: one network namespace per pod (a veth into a bridge that lives in a
/// namespace of its own, addresses in 10.200.0.0/24), in each the pod's leaf nats-server on the pod's 127.0.0.1:4222
/// and its node (<c>tether node</c>, built by <see cref="PodCommandLine.Build"/>); a three-server hub cluster with
/// JetStream on every member in namespaces of their own. Nothing touches the host's own interfaces or routes.
/// Everything made is written to the run folder's state first; <see cref="Down"/> removes it all.
/// </summary>
internal sealed class LocalPods : IAsyncDisposable
{
    public const string DefaultRunDir = "/tmp/tether-pods";
    public const string Subnet = "10.200.0";
    public const int HubCount = 3;

    /// <summary>The demo application's module: the Tether.Demo.dll beside this CLI.</summary>
    public static string DemoModule => Path.Join(AppContext.BaseDirectory, "Tether.Demo.dll");

    private readonly string _runDir;
    private readonly RunState _state;
    private readonly string _bridgeNamespace;
    private bool _detached;

    private LocalPods(PodLayout layout, string runDir, RunState state)
    {
        Layout = layout;
        _runDir = runDir;
        _state = state;
        _bridgeNamespace = $"tpod-{state.RunId}-br";
    }

    public PodLayout Layout { get; }

    public string RunDir => _runDir;

    public IReadOnlyList<LocalPod> Pods { get; private set; } = [];

    /// <summary>Pods with only a leaf server and no node (a test's own client pods).</summary>
    public IReadOnlyList<LocalPod> LeafOnlyPods { get; private set; } = [];

    public IReadOnlyList<LocalHub> Hubs { get; private set; } = [];

    public LocalPod Pod(string name)
        => Pods.Concat(LeafOnlyPods).FirstOrDefault(p => p.Name == name) ?? throw new ArgumentException($"no pod \"{name}\" in this run", nameof(name));

    /// <summary>Brings the layout up; on any failure removes what it made and throws.</summary>
    public static async Task<LocalPods> UpAsync(PodLayout layout, string runDir, IReadOnlyList<string> modules, TextWriter progress, CancellationToken cancellation, IReadOnlyList<string>? leafOnlyPods = null)
    {
        CheckRights();
        runDir = Path.GetFullPath(runDir);
        Directory.CreateDirectory(runDir);
        if (RunState.Read(runDir) is { } previous)
        {
            throw new LocalPodsException($"a run ({previous.Layout}, {previous.RunId}) is already up in {runDir}: remove it first with `tether pods down --run-dir {runDir}`.");
        }

        string[] moduleFiles = modules.Select(Path.GetFullPath).ToArray();
        foreach (string module in moduleFiles)
        {
            if (!File.Exists(module))
            {
                throw new LocalPodsException($"--module {module}: the assembly does not exist.");
            }
        }

        var state = new RunState { RunId = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6], Layout = layout.Name };
        state.Save(runDir);
        var pods = new LocalPods(layout, runDir, state);
        try
        {
            await pods.StartAsync(moduleFiles, leafOnlyPods ?? [], progress, cancellation);
            return pods;
        }
        catch
        {
            Down(runDir);
            throw;
        }
    }

    private async Task StartAsync(string[] modules, IReadOnlyList<string> leafOnly, TextWriter progress, CancellationToken cancellation)
    {
        progress.WriteLine($"pods: {Layout.Name} as run {_state.RunId} in {_runDir}");
        AddNamespace(_bridgeNamespace);
        HostCommands.Ip("-n", _bridgeNamespace, "link", "add", "br0", "type", "bridge");
        HostCommands.Ip("-n", _bridgeNamespace, "link", "set", "br0", "up");

        List<LocalHub> hubs = [];
        for (int i = 1; i <= HubCount; i++)
        {
            string ns = $"tpod-{_state.RunId}-hub{i}";
            string address = $"{Subnet}.{i}";
            string veth = Connect(ns, address, index: i);
            string dir = Path.Join(_runDir, $"hub{i}");
            Directory.CreateDirectory(dir);
            string routes = string.Join(", ", Enumerable.Range(1, HubCount).Where(j => j != i).Select(j => $"\"nats-route://{Subnet}.{j}:6222\""));
            string conf = Path.Join(dir, "hub.conf");
            File.WriteAllText(conf, string.Join('\n',
                $"server_name: hub{i}",
                "listen: 0.0.0.0:4222",
                "ping_interval: \"1s\"",
                "ping_max: 3",
                $"jetstream {{ domain: {PodCommandLine.JetStreamDomain}, store_dir: \"{Path.Join(dir, "jetstream")}\", max_memory_store: 256MB, max_file_store: 1GB }}",
                $"cluster {{ name: tether-hub, listen: 0.0.0.0:6222, routes: [ {routes} ] }}",
                "leafnodes { listen: 0.0.0.0:7422 }",
                ""));
            var hub = new LocalHub($"hub{i}", ns, address, veth, conf, Path.Join(dir, "server.log"));
            hub.Pid = Spawn(hub.Name, ns, HostCommands.NatsServerExecutable(), ["-c", conf, "-l", hub.Log], new Dictionary<string, string>(), Path.Join(dir, "stdout.log"));
            hubs.Add(hub);
        }

        Hubs = hubs;
        List<LocalPod> pods = [];
        int index = 11;
        foreach (PodSpec spec in Layout.Pods)
        {
            pods.Add(StartPod(spec.Name, spec, index++, modules));
        }

        List<LocalPod> extra = [];
        index = 100;
        foreach (string name in leafOnly)
        {
            extra.Add(StartPod(name, null, index++, modules));
        }

        Pods = pods;
        LeafOnlyPods = extra;

        foreach (LocalHub hub in hubs)
        {
            await LogWait.ForLineAsync(hub.Log, "Server is ready", $"hub server {hub.Name}", hub.Pid, cancellation);
        }

        // JetStream is usable once the hub has elected its metadata leader. The members that elected it log so; one
        // that joins later may not, so any one member's line will do.
        await LogWait.ForAnyLineAsync(hubs.Select(h => h.Log).ToArray(), "metadata leader", "the hub electing its JetStream metadata leader", cancellation);

        foreach (LocalPod pod in pods.Concat(extra))
        {
            await LogWait.ForLineAsync(pod.LeafLog, "Leafnode connection created", $"the leaf server of pod {pod.Name} connecting to the hub", pod.LeafPid, cancellation);
        }

        foreach (LocalPod pod in pods)
        {
            await LogWait.ForLineAsync(pod.NodeLog, $"Tether node {pod.NodeName} ready", $"the node of pod {pod.Name}", pod.NodePid, cancellation);
            progress.WriteLine($"pods: {pod.Name} ({string.Join(", ", pod.Roles)}) up at {pod.Address}");
        }
    }

    private LocalPod StartPod(string name, PodSpec? spec, int index, string[] modules)
    {
        string ns = $"tpod-{_state.RunId}-{name}";
        string address = $"{Subnet}.{index}";
        string veth = Connect(ns, address, index);
        string dir = Path.Join(_runDir, name);
        Directory.CreateDirectory(dir);
        string conf = Path.Join(dir, "leaf.conf");
        string hubs = string.Join(", ", Enumerable.Range(1, HubCount).Select(j => $"\"nats-leaf://{Subnet}.{j}:7422\""));
        File.WriteAllText(conf, string.Join('\n',
            $"server_name: leaf-{name}",
            "listen: 127.0.0.1:4222",
            "ping_interval: \"1s\"",
            "ping_max: 3",
            $"leafnodes {{ reconnect: 1, remotes: [ {{ urls: [ {hubs} ] }} ] }}",
            ""));
        var pod = new LocalPod(name, spec?.Roles ?? [], ns, address, veth, Path.Join(dir, "leaf.log"), Path.Join(dir, "node.log"), $"{name}-1");
        pod.LeafPid = Spawn($"{name}/leaf", ns, HostCommands.NatsServerExecutable(), ["-c", conf, "-l", pod.LeafLog], new Dictionary<string, string>(), Path.Join(dir, "leaf.stdout.log"));
        if (spec is not null)
        {
            PodProcess process = PlanNode(spec, modules, pod.NodeName, Path.Join(_runDir, "data"));
            (string exe, string[] prefix) = HostCommands.TetherExecutable();
            Dictionary<string, string> env = new(process.SharedEnvironment);
            foreach ((string key, string value) in process.PodEnvironment)
            {
                env[key] = value;
            }

            pod.NodePid = Spawn($"{name}/node", ns, exe, [.. prefix, .. process.Args], env, pod.NodeLog);
        }

        return pod;
    }

    /// <summary>The node process a local pod runs (tests compare it with the manifests).</summary>
    public static PodProcess PlanNode(PodSpec pod, IReadOnlyList<string> modules, string nodeName, string dataFolder) => PodCommandLine.Build(pod, modules, nodeName, dataFolder);

    /// <summary>Cuts the pod off the bridge (its veth down): a partition. Its own processes keep running.</summary>
    public void Partition(string pod) => HostCommands.Ip("-n", _bridgeNamespace, "link", "set", Pod(pod).Veth, "down");

    /// <summary>Reconnects a partitioned pod.</summary>
    public void Heal(string pod) => HostCommands.Ip("-n", _bridgeNamespace, "link", "set", Pod(pod).Veth, "up");

    /// <summary>kill -9 of a pod's node process.</summary>
    public void KillNode(string pod) => HostCommands.KillPid(Pod(pod).NodePid, force: true);

    /// <summary>kill -9 of a hub server.</summary>
    public void KillHub(string hub) => HostCommands.KillPid(Hubs.First(h => h.Name == hub).Pid, force: true);

    /// <summary>What a person needs: where the web page is, and how to reach the pods.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"layout {Layout.Name} is up (run {_state.RunId}, state in {_runDir}):");
        foreach (LocalPod pod in Pods)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  pod {pod.Name,-10} {pod.Address,-12} namespace {pod.Namespace}  roles {string.Join(", ", pod.Roles)}  (node pid {pod.NodePid}, leaf pid {pod.LeafPid}, log {pod.NodeLog})");
        }

        foreach (LocalHub hub in Hubs)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  hub {hub.Name,-10} {hub.Address,-12} namespace {hub.Namespace}  (pid {hub.Pid})");
        }

        if (Pods.FirstOrDefault(p => p.Roles.Contains("web")) is { } web)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"web page: http://{web.Address}:{PodCommandLine.WebPort}/ (health http://{web.Address}:{PodCommandLine.HealthPort}/readyz), reachable inside the pods' network: ip netns exec {web.Namespace} curl http://127.0.0.1:{PodCommandLine.WebPort}/");
        }

        text.Append(CultureInfo.InvariantCulture, $"stop: tether pods down --run-dir {_runDir}");
        return text.ToString();
    }

    /// <summary>Leaves the pods running when this object is disposed (the <c>up</c> command).</summary>
    public void Detach() => _detached = true;

    public ValueTask DisposeAsync()
    {
        if (!_detached)
        {
            Down(_runDir);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Removes every process, namespace and link a run made (as recorded in its state), also after a crash of <c>up</c>.
    /// Safe to call twice; reports what it did.
    /// </summary>
    public static string Down(string runDir)
    {
        runDir = Path.GetFullPath(runDir);
        RunState? state = RunState.Read(runDir);
        if (state is null)
        {
            return $"nothing to remove: no run state in {runDir}";
        }

        CheckRights();
        int killed = 0;
        foreach (RunProcess process in state.Processes)
        {
            if (HostCommands.StartTimeOf(process.Pid) == process.StartTime && HostCommands.KillPid(process.Pid, force: true))
            {
                killed++;
            }
        }

        int removed = 0;
        foreach (string ns in state.Namespaces.AsEnumerable().Reverse())
        {
            if (!File.Exists(Path.Join("/run/netns", ns)))
            {
                continue;
            }

            // Anything still running inside a namespace we made is ours (started there by `up`): end it too.
            (int _, string pids, string _) = HostCommands.Run("ip", "netns", "pids", ns);
            foreach (string line in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(line, CultureInfo.InvariantCulture, out int pid) && HostCommands.KillPid(pid, force: true))
                {
                    killed++;
                }
            }

            // Deleting a namespace removes its veth end, and with it the peer in the bridge's namespace.
            (int code, string _, string error) = HostCommands.Run("ip", "netns", "del", ns);
            if (code != 0)
            {
                throw new LocalPodsException($"could not remove network namespace {ns}: {error.Trim()}");
            }

            removed++;
        }

        File.Delete(RunState.FileIn(runDir));
        return $"removed run {state.RunId} ({state.Layout}): {killed} processes ended, {removed} network namespaces removed";
    }

    /// <summary>Throws a <see cref="LocalPodsException"/> (<see cref="LocalPodsException.IsPermission"/>) naming what is missing.</summary>
    public static void CheckRights()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new LocalPodsException("local pods need Linux network namespaces (ip netns); this is not Linux.", isPermission: true);
        }

        if (Tmds.Linux.LibC.geteuid() != 0)
        {
            throw new LocalPodsException($"local pods need root (CAP_NET_ADMIN and CAP_SYS_ADMIN for `ip netns add`, veth links and a bridge); this process runs as uid {Tmds.Linux.LibC.geteuid()}. Run it with sudo, or as root.", isPermission: true);
        }

        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip"))
        {
            throw new LocalPodsException("local pods need the `ip` command (Debian package iproute2).", isPermission: true);
        }
    }

    private void AddNamespace(string ns)
    {
        _state.Namespaces.Add(ns);
        _state.Save(_runDir); // recorded before it exists, so a crash in between still removes it
        (int code, string _, string error) = HostCommands.Run("ip", "netns", "add", ns);
        if (code != 0)
        {
            bool permission = error.Contains("Operation not permitted", StringComparison.Ordinal) || error.Contains("Permission denied", StringComparison.Ordinal);
            throw new LocalPodsException($"`ip netns add {ns}` failed: {error.Trim()}" + (permission ? " — creating network namespaces needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN); in a container, run it privileged." : ""), permission);
        }

        HostCommands.Ip("-n", ns, "link", "set", "lo", "up");
    }

    /// <summary>A namespace joined to the bridge: its eth0 with <paramref name="address"/>, the peer v{index} on br0.</summary>
    private string Connect(string ns, string address, int index)
    {
        AddNamespace(ns);
        string veth = $"v{index}";
        HostCommands.Ip("-n", _bridgeNamespace, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
        HostCommands.Ip("-n", _bridgeNamespace, "link", "set", veth, "master", "br0", "up");
        HostCommands.Ip("-n", ns, "addr", "add", $"{address}/24", "dev", "eth0");
        HostCommands.Ip("-n", ns, "link", "set", "eth0", "up");
        return veth;
    }

    private int Spawn(string name, string ns, string exe, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> env, string logFile)
    {
        // setsid: the process outlives `tether pods up`; its output goes to a file (a pipe would break when we exit).
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (string arg in new[] { "sh", "-c", "exec \"$0\" \"$@\" </dev/null >>\"$TPOD_LOG\" 2>&1", "ip", "netns", "exec", ns, exe })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["TPOD_LOG"] = logFile;
        foreach ((string key, string value) in env)
        {
            start.Environment[key] = value;
        }

        using Process process = Process.Start(start) ?? throw new LocalPodsException($"could not start {name}");
        _state.Processes.Add(new RunProcess(name, ns, process.Id, HostCommands.StartTimeOf(process.Id)));
        _state.Save(_runDir);
        return process.Id;
    }
}
