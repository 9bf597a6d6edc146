using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Tether.Demo;
using Tether.Nats;
using Tether.Sessions;

namespace Tether.Cli;

/// <summary>
/// <c>tether demo</c>: runs the demo application's services (samples/Tether.Demo) embedded in this process, or with
/// <c>--nodes 3</c> as three node processes (supplier, dialogs, web) that meet through a nats-server this command starts
/// and stops itself. Ctrl+C or SIGTERM stops everything it started: the child nodes first, then the broker.
/// </summary>
internal static class DemoCommand
{
    private const string ReadyLine = "tether-demo-node-ready";
    private const string PostgresVariable = "TETHER_DEMO_POSTGRES"; // a connection string may hold a password: not on a command line
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(120); // 3 .NET processes starting on a busy 2-core machine
    private static readonly TimeSpan s_stopDeadline = TimeSpan.FromSeconds(15);

    public static Command Build()
    {
        var port = new Option<int>("--port") { Description = "The web port: the demo is served on http://127.0.0.1:PORT (0: a free port, printed).", DefaultValueFactory = _ => 8080 };
        var db = new Option<string>("--db") { Description = "The SQLite file of products, stock and orders (created and seeded on first start).", DefaultValueFactory = _ => "tether-demo.db" };
        var postgres = new Option<string?>("--postgres") { Description = "A PostgreSQL connection string: the supplier uses that database instead of the SQLite file." };
        var nodes = new Option<int>("--nodes") { Description = "1: everything in this process (no broker); 3: web, dialogs and supplier nodes over a local nats-server.", DefaultValueFactory = _ => 1 };
        var role = new Option<string?>("--role") { Description = "Run one node of the demo on NATS (for pods; needs --nats): supplier, dialogs or web." };
        var nats = new Option<string?>("--nats") { Description = "The NATS server URLs of a --role node." };
        var name = new Option<string?>("--name") { Description = "The node name of a --role node (default demo-ROLE)." };
        var child = new Option<bool>("--stop-on-stdin-close") { Description = "(internal) a node started by --nodes 3: it stops when its parent closes its standard input.", Hidden = true };
        port.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 65535)
            {
                r.AddError($"--port must be between 0 (a free port) and 65535; it is {r.GetValueOrDefault<int>()}.");
            }
        });
        nodes.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is not (1 or 3))
            {
                r.AddError($"--nodes must be 1 (embedded) or 3 (web, dialogs and supplier nodes); it is {r.GetValueOrDefault<int>()}.");
            }
        });

        var command = new Command("demo", "Run the demo application in the browser (http://127.0.0.1:8080): login, a live catalogue of 10,000 products, orders with declarative rules, an operator view.")
        {
            port, db, postgres, nodes, role, nats, name, child,
        };
        command.SetAction(async (parse, invocationCancellation) =>
        {
            // Ctrl+C and SIGTERM stop the demo in order (nodes, then the broker) instead of ending the process at once.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(invocationCancellation);
            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }

            CancellationToken cancellation = stop.Token;
            var options = new DemoOptions
            {
                DatabasePath = Path.GetFullPath(parse.GetValue(db)!),
                PostgresConnection = parse.GetValue(postgres) ?? Environment.GetEnvironmentVariable(PostgresVariable),
            };
            try
            {
                if (parse.GetValue(role) is { } roleName)
                {
                    return await RunRoleAsync(roleName, parse.GetValue(name), parse.GetValue(nats), parse.GetValue(port), options, parse.GetValue(child), cancellation);
                }

                return parse.GetValue(nodes) == 3
                    ? await RunThreeNodesAsync(parse.GetValue(port), options, cancellation)
                    : await RunEmbeddedAsync(parse.GetValue(port), options, cancellation);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                return 0; // stopped while starting
            }
            catch (Exception ex) when (ex is TetherException or ArgumentException or InvalidOperationException or IOException or System.Data.Common.DbException or Tether.Adapters.ContractSpecException)
            {
                await Console.Error.WriteLineAsync($"tether demo: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunEmbeddedAsync(int port, DemoOptions options, CancellationToken cancellation)
    {
        using ILoggerFactory logs = Logs();
        options = options with { Port = port };
        SessionVerifier verifier = DemoApp.CreateVerifier(options);
        await using Node node = Node.Create(new NodeOptions { Name = "demo", Adapters = DemoApp.CreateAdapters(), LoggerFactory = logs, Sessions = verifier });
        verifier.Attach(node);
        await using DemoRun run = await DemoApp.StartAsync(node, DemoRoles.All, options, broker: null, cancellation);
        SupplierStatus status = await node.Request(DemoApp.SupplierService, new GetSupplierStatus());
        Console.WriteLine("Tether demo, embedded: one process, no broker.");
        PrintStarted(run.Services);
        PrintStatus(status);
        PrintWeb(run.Url!);
        Console.WriteLine("Press Ctrl+C to stop.");
        await WaitForStop(cancellation, stdinCloses: false);
        Console.WriteLine("tether demo: stopping.");
        return 0;
    }

    /// <summary>
    /// One node of the demo on NATS: started by <see cref="RunThreeNodesAsync"/> (then it also stops when its standard input
    /// closes: its parent is done or gone), or on its own, as a pod runs it.
    /// </summary>
    private static async Task<int> RunRoleAsync(string role, string? name, string? nats, int port, DemoOptions options, bool stopOnStdinClose, CancellationToken cancellation)
    {
        DemoRoles roles = role switch
        {
            "supplier" => DemoRoles.Supplier,
            "dialogs" => DemoRoles.Dialogs | DemoRoles.Sessions,
            "web" => DemoRoles.Web,
            _ => throw new ArgumentException($"--role must be supplier, dialogs or web; it is \"{role}\"."),
        };
        if (nats is null)
        {
            throw new ArgumentException("--role needs --nats URL.");
        }

        using ILoggerFactory logs = Logs();
        options = options with { Port = port };
        SessionVerifier verifier = DemoApp.CreateVerifier(options);
        await using Node node = Node.Create(new NodeOptions { Name = name ?? $"demo-{role}", Adapters = DemoApp.CreateAdapters(), LoggerFactory = logs, Sessions = verifier });
        await using BrokerProxy broker = await AttachAsync(
            node,
            new BrokerOptions { Url = nats, Contracts = DemoApp.RegisterContracts(new ContractRegistry()), DurableTopics = DemoApp.DurableTopics },
            cancellation);
        verifier.Attach(node);
        await using DemoRun run = await DemoApp.StartAsync(node, roles, options, broker, cancellation);
        PrintStarted(run.Services);
        if (roles != DemoRoles.Supplier)
        {
            // Show that this node reaches the supplier on its own node "near the database", through NATS.
            long start = Stopwatch.GetTimestamp();
            SupplierStatus status = await DemoApp.WaitForSupplierAsync(node, s_startDeadline, cancellation);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reached the supplier on node {status.Node} through NATS in {Stopwatch.GetElapsedTime(start).TotalMilliseconds:F0} ms: {status.Products:N0} products, {status.Orders:N0} orders"));
        }

        if (run.Url is { } url)
        {
            PrintWeb(url);
        }

        Console.WriteLine(stopOnStdinClose ? ReadyLine : $"Node {node.Name} is up. Press Ctrl+C to stop.");
        await WaitForStop(cancellation, stdinCloses: stopOnStdinClose);
        return 0;
    }

    /// <summary>
    /// Attaches the broker proxy, trying again for a while when the connection fails: the nats-server was started a moment
    /// ago, and on a busy machine a first connection attempt can time out.
    /// </summary>
    private static async Task<BrokerProxy> AttachAsync(Node node, BrokerOptions options, CancellationToken cancellation)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                return await BrokerProxy.AttachAsync(node, options, cancellation);
            }
            catch (TetherException ex) when (ex.Code == ErrorCodes.NodeUnreachable && Stopwatch.GetElapsedTime(start) < s_startDeadline)
            {
                Console.WriteLine($"NATS not reached yet ({ex.Message}); trying again in 1 s");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
            }
        }
    }

    private static async Task<int> RunThreeNodesAsync(int port, DemoOptions options, CancellationToken cancellation)
    {
        var run = new ThreeNodes();

        // Should the process end before the finally below has run (an exception escaping elsewhere), it still stops what
        // it started on its way out.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => run.StopAsync().Wait(s_stopDeadline * 2);
        try
        {
            _ = DemoApp.LoadOrCreateKeys(options); // once, before the three nodes read it
            int natsPort = await run.StartNatsAsync(cancellation);
            string url = $"nats://127.0.0.1:{natsPort}";
            Console.WriteLine($"Tether demo on three nodes: nats-server {url} (JetStream on, for the durable stock topic)");
            run.StartNode("supplier", "demo-supplier", url, port, options);
            run.StartNode("dialogs", "demo-dialogs", url, port, options);
            run.StartNode("web", "demo-web", url, port, options);
            await run.AllReadyAsync(cancellation);
            Console.WriteLine("All three nodes are up. Press Ctrl+C to stop.");
            await Task.WhenAny(run.AnyExited, Task.Delay(Timeout.Infinite, cancellation));
            if (!cancellation.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync($"tether demo: a node stopped on its own ({run.ExitedName}); stopping the others.");
                return 1;
            }

            Console.WriteLine("tether demo: stopping the nodes, then nats-server.");
            return 0;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            Console.WriteLine("tether demo: stopping.");
            return 0;
        }
        finally
        {
            await run.StopAsync();
        }
    }

    private static ILoggerFactory Logs() => LoggerFactory.Create(b => b
        .AddSimpleConsole(o => o.SingleLine = true)
        .SetMinimumLevel(LogLevel.Information)
        .AddFilter("Tether.Node", LogLevel.Warning)
        .AddFilter("NATS", LogLevel.Warning));

    private static void PrintStarted(DemoServices services)
    {
        foreach (string line in services.Started)
        {
            Console.WriteLine($"  node {services.Node}: {line}");
        }
    }

    private static void PrintStatus(SupplierStatus status)
        => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  catalogue: {status.Products:N0} products, {status.Orders:N0} orders ({status.Database})"));

    private static void PrintWeb(Uri url)
    {
        Console.WriteLine($"  web: {url}");
        Console.WriteLine($"Open {url} in a browser and sign in as user \"{DemoApp.DemoUser}\", password \"{DemoApp.DemoPassword}\".");
    }

    private static async Task WaitForStop(CancellationToken cancellation, bool stdinCloses)
    {
        Task stopped = Task.Delay(Timeout.Infinite, cancellation);
        if (!stdinCloses)
        {
            await Task.WhenAny(stopped);
            return;
        }

        // The parent closes our standard input to stop us; it also closes when the parent dies, so no node outlives it.
        Task closed = Task.Factory.StartNew(
            static () =>
            {
                while (Console.In.ReadLine() is not null)
                {
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        await Task.WhenAny(stopped, closed);
    }

    /// <summary>The nats-server and the three node processes of <c>--nodes 3</c>, and stopping them all, once.</summary>
    private sealed class ThreeNodes
    {
        private readonly List<(string Name, Process Process, TaskCompletionSource Ready)> _nodes = [];
        private readonly TaskCompletionSource<string> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly string _folder = Directory.CreateTempSubdirectory("tether-demo-").FullName;
        private readonly object _gate = new();
        private Process? _nats;
        private Task? _stopping;

        public Task AnyExited => _exited.Task;

        public string ExitedName => _exited.Task.IsCompleted ? _exited.Task.Result : "";

        public async Task<int> StartNatsAsync(CancellationToken cancellation)
        {
            string executable = new[] { "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("nats-server is not installed: run `apt-get install nats-server` (--nodes 3 starts one on a free local port).");
            int port = FreePort();
            string log = Path.Join(_folder, "nats-server.log");
            var start = new ProcessStartInfo(executable)
            {
                ArgumentList = { "-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-js", "-sd", Path.Join(_folder, "jetstream"), "-l", log },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            _nats = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start.");
            long begin = Stopwatch.GetTimestamp();
            while (true)
            {
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port, cancellation);
                    return port;
                }
                catch (SocketException) when (!_nats.HasExited && Stopwatch.GetElapsedTime(begin) < TimeSpan.FromSeconds(10))
                {
                    await Task.Delay(20, cancellation); // polling for the port to open, with a deadline
                }
                catch (SocketException)
                {
                    string text = File.Exists(log) ? await File.ReadAllTextAsync(log, cancellation) : "";
                    throw new InvalidOperationException($"nats-server did not open port {port} within 10 s.\n{text}");
                }
            }
        }

        public void StartNode(string role, string name, string url, int port, DemoOptions options)
        {
            var start = new ProcessStartInfo
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };

            // Run this same command line again: through `dotnet Tether.Cli.dll`, or its own executable.
            string self = typeof(DemoCommand).Assembly.Location;
            string host = Environment.ProcessPath ?? "dotnet";
            start.FileName = host;
            if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            {
                start.ArgumentList.Add(self);
            }

            foreach (string argument in new[] { "demo", "--role", role, "--name", name, "--nats", url, "--port", port.ToString(CultureInfo.InvariantCulture), "--db", options.DatabasePath, "--stop-on-stdin-close" })
            {
                start.ArgumentList.Add(argument);
            }

            if (options.PostgresConnection is { } postgres)
            {
                start.Environment[PostgresVariable] = postgres;
            }

            Process process = Process.Start(start) ?? throw new InvalidOperationException($"the {role} node did not start.");
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                _nodes.Add((role, process, ready));
            }

            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data == ReadyLine)
                {
                    ready.TrySetResult();
                }
                else if (e.Data is not null)
                {
                    Console.WriteLine($"[{role}] {e.Data}");
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    Console.Error.WriteLine($"[{role}] {e.Data}");
                }
            };
            process.EnableRaisingEvents = true;
            process.Exited += (_, _) =>
            {
                ready.TrySetException(new InvalidOperationException($"the {role} node exited (code {process.ExitCode}) before it was ready; its output is above."));
                _exited.TrySetResult(role);
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public async Task AllReadyAsync(CancellationToken cancellation)
        {
            Task[] ready;
            lock (_gate)
            {
                ready = [.. _nodes.Select(n => n.Ready.Task)];
            }

            try
            {
                await Task.WhenAll(ready).WaitAsync(s_startDeadline, cancellation);
            }
            catch (TimeoutException)
            {
                throw new InvalidOperationException($"the nodes were not all ready within {s_startDeadline.TotalSeconds:F0} s.");
            }
        }

        /// <summary>Stops the nodes (their standard input closes; killed if they take longer than 15 s), then nats-server, and deletes the temp folder. Once.</summary>
        public Task StopAsync()
        {
            lock (_gate)
            {
                return _stopping ??= Task.Run(StopAllAsync);
            }
        }

        private async Task StopAllAsync()
        {
            (string Name, Process Process, TaskCompletionSource Ready)[] nodes;
            lock (_gate)
            {
                nodes = [.. _nodes];
            }

            // In the reverse order of their start: the supplier goes last, so no node sees it vanish while stopping.
            foreach ((string name, Process process, _) in Enumerable.Reverse(nodes))
            {
                await StopNodeAsync(name, process);
            }

            if (_nats is { } nats)
            {
                if (!nats.HasExited)
                {
                    _ = Tmds.Linux.LibC.kill(nats.Id, Tmds.Linux.LibC.SIGTERM); // lets JetStream close its files
                    using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    try
                    {
                        await nats.WaitForExitAsync(deadline.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        nats.Kill();
                    }
                }

                nats.Dispose();
            }

            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open; the folder is in the system's temp space.
            }
        }

        private static async Task StopNodeAsync(string name, Process process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.StandardInput.Close();
                    using var deadline = new CancellationTokenSource(s_stopDeadline);
                    try
                    {
                        await process.WaitForExitAsync(deadline.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        Console.Error.WriteLine($"tether demo: the {name} node did not stop within {s_stopDeadline.TotalSeconds:F0} s; killing it.");
                        process.Kill(entireProcessTree: true);
                    }
                }
            }
            catch (InvalidOperationException)
            {
                // It had already gone.
            }
            finally
            {
                process.Dispose();
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
