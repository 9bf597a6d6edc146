using System.Diagnostics;
using Tether.Cli.Pods;
using Tether.Nats;

namespace Tether.Pods.Tests;

/// <summary>
/// A layout up as local pods for one test, plus a "driver" pod (a leaf server, no node) whose NATS the test's own
/// in-process node reaches through a <see cref="NamespaceForwarder"/>: the test's requests come from another pod.
/// Disposing removes every namespace, link and process (also registered for process exit, should the test host end).
/// </summary>
internal sealed class PodsRun : IAsyncDisposable
{
    private static readonly HashSet<string> s_live = [];

    static PodsRun() => AppDomain.CurrentDomain.ProcessExit += static (_, _) =>
    {
        string[] left;
        lock (s_live)
        {
            left = [.. s_live];
        }

        foreach (string dir in left)
        {
            try
            {
                LocalPods.Down(dir);
            }
            catch (Exception ex) when (ex is LocalPodsException or IOException)
            {
                Console.Error.WriteLine($"pods tests: could not remove the run in {dir}: {ex.Message}"); // scripts/test.sh removes tpod-* namespaces left behind
            }
        }
    };

    private readonly string _runDir;
    private readonly List<(Node Node, BrokerProxy Proxy)> _others = [];
    private readonly List<NamespaceForwarder> _podForwarders = [];
    private NamespaceForwarder? _forwarder;
    private NamespaceForwarder? _web;

    private PodsRun(string runDir, LocalPods pods)
    {
        _runDir = runDir;
        Pods = pods;
    }

    public LocalPods Pods { get; }

    public Node Driver { get; private set; } = null!;

    /// <summary>What the driver node logged (information and up), for failure messages.</summary>
    public TestLogs DriverLogs { get; } = new();

    public BrokerProxy Proxy { get; private set; } = null!;

    /// <summary>The web pod's page (<see cref="StartDemoAsync"/>), as reached from the test process (and its browser).</summary>
    public Uri WebUrl => new($"http://127.0.0.1:{_web!.Port}/");

    /// <summary>The driver pod's NATS (its leaf server), as reached from the test process.</summary>
    public string NatsUrl => _forwarder!.Url;

    /// <summary>
    /// Another node of the test's own, in the driver pod, or with <paramref name="pod"/> in that pod (a client of the
    /// pod's leaf server, cut off with it by a partition); disposed with the run.
    /// </summary>
    public async Task<(Node Node, BrokerProxy Proxy)> AddNodeAsync(string name, BrokerOptions options, Microsoft.Extensions.Logging.ILoggerFactory? logs = null, string? pod = null)
    {
        string url = NatsUrl;
        if (pod is not null)
        {
            NamespaceForwarder forwarder = NamespaceForwarder.Start(Pods.Pod(pod).Namespace, 4222);
            _podForwarders.Add(forwarder);
            url = forwarder.Url;
        }

        Node node = Node.Create(new NodeOptions { Name = name, LoggerFactory = logs ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });
        BrokerProxy proxy;
        try
        {
            proxy = await BrokerProxy.AttachAsync(node, options with { Url = url, Cluster = PodCommandLine.Cluster, Contracts = PodsModule.Contracts(new ContractRegistry()) });
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        _others.Add((node, proxy));
        return (node, proxy);
    }

    /// <summary>
    /// The layout up with the demo application itself on every pod (the same module and configuration as in
    /// Kubernetes), and the web pod's page forwarded to the test process. No driver pod.
    /// </summary>
    public static async Task<PodsRun> StartDemoAsync(string layout)
    {
        (string runDir, LocalPods pods) = await UpAsync(layout, [LocalPods.DemoModule], leafOnlyPods: []);
        var run = new PodsRun(runDir, pods);
        try
        {
            LocalPod web = pods.Pods.First(p => p.Roles.Contains("web"));
            run._web = NamespaceForwarder.Start(web.Namespace, PodCommandLine.WebPort);
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    private static async Task<(string RunDir, LocalPods Pods)> UpAsync(string layout, string[] modules, string[] leafOnlyPods)
    {
        string runDir = Directory.CreateTempSubdirectory("tether-pods-").FullName;
        lock (s_live)
        {
            s_live.Add(runDir);
        }

        try
        {
            return (runDir, await LocalPods.UpAsync(PodLayout.Load(Repo.Path("deploy", "layouts", layout + ".json")), runDir, modules, TextWriter.Null, CancellationToken.None, leafOnlyPods));
        }
        catch (LocalPodsException ex) when (ex.IsPermission)
        {
            Forget(runDir);
            throw new InvalidOperationException($"the pod tests need network namespaces and could not make one: {ex.Message}", ex);
        }
        catch
        {
            Forget(runDir);
            throw;
        }
    }

    public static async Task<PodsRun> StartAsync(string layout, BrokerOptions? options = null)
    {
        (string runDir, LocalPods pods) = await UpAsync(layout, [typeof(PodsModule).Assembly.Location], leafOnlyPods: ["driver"]);
        var run = new PodsRun(runDir, pods);
        try
        {
            run._forwarder = NamespaceForwarder.Start(pods.Pod("driver").Namespace, 4222);
            run.Driver = Node.Create(new NodeOptions { Name = "driver", LoggerFactory = run.DriverLogs });
            run.Proxy = await AttachAsync(run, options);
            string[] nodes = pods.Pods.Select(p => p.NodeName).ToArray();
            await Until(() => nodes.All(run.Proxy.Peers.Contains), $"the driver hearing every pod's node ({string.Join(", ", nodes)})", TimeSpan.FromSeconds(30));
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    private static async Task<BrokerProxy> AttachAsync(PodsRun run, BrokerOptions? options)
    {
        try
        {
            return await BrokerProxy.AttachAsync(run.Driver, (options ?? new BrokerOptions()) with
            {
                Url = run._forwarder!.Url,
                Cluster = PodCommandLine.Cluster,
                Contracts = PodsModule.Contracts(new ContractRegistry()),
            });
        }
        catch (TetherException ex)
        {
            throw new InvalidOperationException($"the test's node could not reach the driver pod's leaf server through the forwarder: {ex.Message}; forwarder: {run._forwarder!.LastError}", ex);
        }
    }

    /// <summary>Polls a condition until it holds, failing with the phase's name after a deadline (never a bare sleep).</summary>
    public static async Task<TimeSpan> Until(Func<bool> condition, string phase, TimeSpan deadline)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < deadline, $"timed out after {deadline.TotalSeconds} s waiting for: {phase}");
            await Task.Delay(10); // polling a condition with a deadline
        }

        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>The node logs of every pod, for failure messages.</summary>
    public string Logs()
        => string.Join("\n", Pods.Pods.Select(p => $"--- {p.Name} ---\n" + (File.Exists(p.NodeLog) ? string.Join('\n', File.ReadLines(p.NodeLog).TakeLast(20)) : "(no log)")));

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach ((Node node, BrokerProxy proxy) in _others)
            {
                await proxy.DisposeAsync();
                await node.DisposeAsync();
            }

            if (Proxy is not null)
            {
                await Proxy.DisposeAsync();
            }

            if (Driver is not null)
            {
                await Driver.DisposeAsync();
            }
        }
        finally
        {
            _forwarder?.Dispose();
            _web?.Dispose();
            foreach (NamespaceForwarder forwarder in _podForwarders)
            {
                forwarder.Dispose();
            }

            LocalPods.Down(_runDir);
            Forget(_runDir);
            Directory.Delete(_runDir, recursive: true);
        }
    }

    private static void Forget(string runDir)
    {
        lock (s_live)
        {
            s_live.Remove(runDir);
        }
    }
}
