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
    internal const string ReadyLine = "tether-demo-node-ready";
    internal const string PostgresVariable = "TETHER_DEMO_POSTGRES"; // a connection string may hold a password: not on a command line
    internal static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(120); // 3 .NET processes starting on a busy 2-core machine
    internal static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(15);

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
            SupplierStatus status = await DemoApp.WaitForSupplierAsync(node, StartDeadline, cancellation);
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
            catch (TetherException ex) when (ex.Code == ErrorCodes.NodeUnreachable && Stopwatch.GetElapsedTime(start) < StartDeadline)
            {
                Console.WriteLine($"NATS not reached yet ({ex.Message}); trying again in 1 s");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
            }
        }
    }

    private static async Task<int> RunThreeNodesAsync(int port, DemoOptions options, CancellationToken cancellation)
    {
        var run = new DemoThreeNodes();

        // Should the process end before the finally below has run (an exception escaping elsewhere), it still stops what
        // it started on its way out.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => run.StopAsync().Wait(StopDeadline * 2);
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
}
