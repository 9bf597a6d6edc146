using Tether.Nats;
using Tether.Sessions;

namespace Tether.Demo.Tests;

/// <summary>
/// The demo application as the journey tests drive it: embedded (one node, every role) or over a real nats-server
/// (web, dialogs with sessions, supplier as three nodes in this process), with Kestrel on a free port and SQLite in a
/// temp folder. Everything it starts is stopped and deleted on dispose, also after a failure.
/// </summary>
public sealed class DemoDeployment : IAsyncDisposable
{
    private readonly TempFolder _folder = new();
    private readonly List<(Node Node, BrokerProxy? Broker, DemoRun Run)> _parts = [];
    private NatsServer? _nats;

    public Uri Url { get; private set; } = null!;

    public DemoRun Web { get; private set; } = null!;

    public Node WebNode { get; private set; } = null!;

    public Node SupplierNode { get; private set; } = null!;

    public IEnumerable<Node> Nodes => _parts.Select(p => p.Node);

    public DemoOptions Options => new() { DatabasePath = _folder.File("demo.db"), Port = 0 };

    public static async Task<DemoDeployment> EmbeddedAsync()
    {
        var d = new DemoDeployment();
        try
        {
            (Node node, DemoRun run) = await d.StartNodeAsync("demo", DemoRoles.All);
            d.Web = run;
            d.WebNode = d.SupplierNode = node;
            d.Url = run.Url!;
            return d;
        }
        catch
        {
            await d.DisposeAsync();
            throw;
        }
    }

    public static async Task<DemoDeployment> ThreeNodesAsync()
    {
        var d = new DemoDeployment();
        try
        {
            d._nats = await NatsServer.StartAsync(jetStream: true);
            _ = DemoApp.LoadOrCreateKeys(d.Options);
            (d.SupplierNode, _) = await d.StartNodeAsync("demo-supplier", DemoRoles.Supplier);
            (Node dialogs, _) = await d.StartNodeAsync("demo-dialogs", DemoRoles.Dialogs | DemoRoles.Sessions);
            (d.WebNode, d.Web) = await d.StartNodeAsync("demo-web", DemoRoles.Web);
            d.Url = d.Web.Url!;
            await DemoApp.WaitForSupplierAsync(dialogs, Waits.Deadline);
            await DemoApp.WaitForSupplierAsync(d.WebNode, Waits.Deadline);
            await Waits.Until(() => Reaches(d.WebNode, DemoApp.SessionsService), "the web node reaches the session manager");
            return d;
        }
        catch
        {
            await d.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts another supplier node on the same database (over NATS) and waits until the web node reaches it.</summary>
    public async Task<Node> StartSupplierAsync(string name)
    {
        (Node node, _) = await StartNodeAsync(name, DemoRoles.Supplier);
        SupplierNode = node;
        await DemoApp.WaitForSupplierAsync(WebNode, Waits.Deadline);
        return node;
    }

    /// <summary>Stops the node (its broker proxy first: its peers see it leave).</summary>
    public async Task KillAsync(Node node)
    {
        int i = _parts.FindIndex(p => p.Node == node);
        (Node n, BrokerProxy? broker, DemoRun run) = _parts[i];
        _parts.RemoveAt(i);
        await run.DisposeAsync();
        if (broker is not null)
        {
            await broker.DisposeAsync();
        }

        await n.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _parts.Count - 1; i >= 0; i--)
        {
            (Node node, BrokerProxy? broker, DemoRun run) = _parts[i];
            await run.DisposeAsync();
            if (broker is not null)
            {
                await broker.DisposeAsync();
            }

            await node.DisposeAsync();
        }

        _parts.Clear();
        _nats?.Dispose();
        _folder.Dispose();
    }

    private static bool Reaches(Node node, string service)
    {
        try
        {
            node.Request(service, new Login("nobody", "x"), TimeSpan.FromSeconds(10)).AsTask().GetAwaiter().GetResult();
            return true;
        }
        catch (TetherException ex)
        {
            return ex.Code is not (ErrorCodes.NoSuchService or ErrorCodes.NodeUnreachable or ErrorCodes.Timeout);
        }
    }

    private async Task<(Node Node, DemoRun Run)> StartNodeAsync(string name, DemoRoles roles)
    {
        SessionVerifier verifier = DemoApp.CreateVerifier(Options);
        Node node = Node.Create(new NodeOptions { Name = name, Adapters = DemoApp.CreateAdapters(), Sessions = verifier });
        BrokerProxy? broker = null;
        try
        {
            if (_nats is not null)
            {
                broker = await BrokerProxy.AttachAsync(node, new BrokerOptions { Url = _nats.Url, Contracts = DemoApp.RegisterContracts(new ContractRegistry()), DurableTopics = DemoApp.DurableTopics });
            }

            verifier.Attach(node);
            DemoRun run = await DemoApp.StartAsync(node, roles, Options, broker);
            _parts.Add((node, broker, run));
            return (node, run);
        }
        catch
        {
            if (broker is not null)
            {
                await broker.DisposeAsync();
            }

            await node.DisposeAsync();
            throw;
        }
    }
}
