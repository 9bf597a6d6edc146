using System.Diagnostics;
using Tether.Demo;
using Tether.Nats;
using Tether.Testing;

namespace Tether.Skin.Benchmarks;

/// <summary>
/// The three-node form of skin-roundtrip as three processes, as the demo deploys: a supplier node (the demo supplier on
/// SQLite), a dialogs node (the bench dialog's collector) and a web node (Kestrel, the client targets), each this
/// program in its internal mode <c>--node ROLE --nats URL --data DB</c>, meeting over a nats-server the benchmark starts
/// and stops. A node process prints "READY" (the web node "READY url") once it can serve, and ends when its stdin closes.
/// </summary>
internal static class NodeProcess
{
    public static readonly string[] Roles = ["supplier", "dialogs", "web"];

    private static readonly TimeSpan s_start = TimeSpan.FromSeconds(60);

    /// <summary>One node of the three (the internal mode): runs until stdin closes.</summary>
    public static async Task<int> ServeAsync(string role, string nats, string db)
    {
        if (!Roles.Contains(role))
        {
            Console.Error.WriteLine($"--node takes {string.Join(", ", Roles)}; not \"{role}\"");
            return 2;
        }

        await using Node node = Node.Create(new NodeOptions { Name = role, Adapters = DemoApp.CreateAdapters() });
        await using BrokerProxy proxy = await BrokerProxy.AttachAsync(node, new BrokerOptions { Url = nats, Contracts = DemoApp.RegisterContracts(new ContractRegistry()) });
        WebHost? host = null;
        try
        {
            switch (role)
            {
                case "supplier":
                    DemoApp.Start(node, DemoRoles.Supplier, new DemoOptions { DatabasePath = db });
                    break;
                case "dialogs":
                    node.RegisterDialog(BenchDialog.Name, () => new BenchDialog());
                    await DemoApp.WaitForSupplierAsync(node, s_start);
                    break;
                default:
                    host = await WebHost.StartAsync(node);
                    await DemoApp.WaitForSupplierAsync(node, s_start);
                    break;
            }

            // Ready when it hears the other two nodes' heartbeats.
            long start = Stopwatch.GetTimestamp();
            while (proxy.Peers.Count < Roles.Length - 1)
            {
                if (Stopwatch.GetElapsedTime(start) > s_start)
                {
                    Console.WriteLine($"FAILED node {role} heard only [{string.Join(", ", proxy.Peers)}] within {s_start.TotalSeconds:0} s");
                    return 1;
                }

                await Task.Delay(50);
            }

            Console.WriteLine(host is null ? "READY" : $"READY {host.Page}");
            await Console.In.ReadToEndAsync();
            return 0;
        }
        finally
        {
            if (host is not null)
            {
                await host.DisposeAsync();
            }
        }
    }

    /// <summary>Starts nats-server and the three node processes; returns the bench page's URL and what stops them all.</summary>
    public static async Task<(Uri Page, Func<ValueTask> Stop)> StartAsync(string db)
    {
        NatsServer nats = await NatsServer.StartAsync();
        var processes = new List<Process>();
        async ValueTask Stop()
        {
            foreach (Process p in Enumerable.Reverse(processes))
            {
                try { p.StandardInput.Close(); } catch (IOException) { }
                if (!p.WaitForExit(30_000))
                {
                    p.Kill(entireProcessTree: true);
                    await p.WaitForExitAsync();
                }

                p.Dispose();
            }

            nats.Dispose();
        }

        try
        {
            string self = Path.Join(AppContext.BaseDirectory, "Tether.Skin.Benchmarks");
            Uri? page = null;
            foreach (string role in Roles)
            {
                Process p = IdleSessions.Start(self, $"--node {role} --nats {nats.Url} --data {db}");
                processes.Add(p);
            }

            // All three start together; each says READY once it hears the other two.
            foreach ((Process p, string role) in processes.Zip(Roles))
            {
                string line = await IdleSessions.ReadLineAsync(p, s_start * 2, $"the {role} node's READY line");
                if (!line.StartsWith("READY", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"the {role} node: {line}");
                }

                if (role == "web")
                {
                    page = new Uri(line["READY ".Length..]);
                }
            }

            return (page!, Stop);
        }
        catch
        {
            await Stop();
            throw;
        }
    }
}
