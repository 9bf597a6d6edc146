using System.Collections.Concurrent;
using System.Diagnostics;
using Tether.Nats;
using Xunit.Abstractions;

namespace Tether.Demo.Tests;

/// <summary>The demo's roles split over nodes that meet through a real nats-server (JetStream on, for the durable stock topic).</summary>
public sealed class MultiNodeTests(ITestOutputHelper output)
{
    private readonly ITestOutputHelper _output = output;

    [Fact]
    public async Task DialogsAndSupplierOnTwoNodes_OrdersSearchesEventsAndViolationsCrossNats()
    {
        await using var demo = await DemoCluster.StartAsync();
        (Node dialogs, _) = await demo.AddAsync("dialogs", DemoRoles.Web | DemoRoles.Dialogs | DemoRoles.Sessions);
        (Node supplier, _) = await demo.AddAsync("supplier", DemoRoles.Supplier);
        var seen = new ConcurrentQueue<StockChanged>();
        dialogs.Spawn(() => new StockWatcher(seen));

        // The supplier's service is known on NATS shortly after its node registers it: wait for it as a node would.
        SupplierStatus status = await DemoApp.WaitForSupplierAsync(dialogs, Waits.Deadline);
        ProductPage page = await dialogs.Request(DemoApp.SupplierService, new SearchProducts("oak")).Within("a search from the dialogs node");
        Product product = page.Items.First(p => p.Stock >= 3);
        OrderReceipt receipt = await dialogs.Request(DemoApp.OrdersService, new PlaceOrder(product.Id, 2, Shared.Address), session: await demo.TokenAsync(dialogs)).Within("an order through the desk on the dialogs node");

        Assert.Equal("supplier", status.Node);
        Assert.Equal(10_000, status.Products);
        Assert.True(page.Total > 0);
        Assert.Equal(product.Stock - 2, receipt.StockLeft);
        Product there = await supplier.Request(DemoApp.SupplierService, new GetProduct(product.Id)).Within("the product at the supplier's node");
        Assert.Equal(product.Stock - 2, there.Stock);
        await Waits.Until(() => seen.Contains(new StockChanged(product.Id, receipt.StockLeft)), "the stock event to reach the dialogs node");

        // A rule broken on the way to another node: the supplier's mailbox refuses it; the text names the field.
        TetherException violation = await dialogs.Request(DemoApp.SupplierService, new RecordOrder(product.Id, 1, Shared.Address with { Country = "Germany" })).FailsWithin("the broken record across nodes");
        Assert.Equal(ErrorCodes.ContractViolation, violation.Code);
        Assert.Contains("shipTo.country", violation.Message, StringComparison.Ordinal);
        TetherException shortStock = await dialogs.Request(DemoApp.OrdersService, new PlaceOrder(product.Id, 100, Shared.Address), session: await demo.TokenAsync(dialogs)).FailsWithin("an order for too many across nodes");
        Assert.Equal(DemoErrors.OutOfStock, shortStock.Code);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task SecondSupplier_FirstSuppliersBrokerProxyDisposed_TakesOver(int round)
    {
        _ = round;
        await using var demo = await DemoCluster.StartAsync();
        (Node dialogs, BrokerProxy dialogsProxy) = await demo.AddAsync("dialogs", DemoRoles.Dialogs);
        (Node first, BrokerProxy firstProxy) = await demo.AddAsync("supplier-a", DemoRoles.Supplier);
        SupplierStatus before = await DemoApp.WaitForSupplierAsync(dialogs, Waits.Deadline);
        Assert.Equal("supplier-a", before.Node);
        await demo.AddAsync("supplier-b", DemoRoles.Supplier); // near the same database (the same SQLite file)
        await Waits.Until(() => dialogsProxy.Peers.Contains("supplier-a") && dialogsProxy.Peers.Contains("supplier-b"), "the dialogs node to hear both suppliers' heartbeats");

        await firstProxy.DisposeAsync();
        await first.DisposeAsync();

        // Until the dialogs node lets supplier-a go (at its goodbye, which a disposed proxy says; or, if that is lost,
        // when its heartbeats stop: BrokerOptions.FailureTimeout, 2 s), a request the router still sends there fails fast
        // and typed: node-stopped when the goodbye ends it, node-unreachable after a loss, no-such-service when NATS has
        // no responder for that node. It never hangs to its deadline. From then on, every request goes to supplier-b.
        long start = Stopwatch.GetTimestamp();
        var failures = new List<string>();
        while (dialogsProxy.Peers.Contains("supplier-a"))
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < Waits.Deadline, "the dialogs node never declared supplier-a unreachable");
            try
            {
                SupplierStatus meanwhile = await dialogs.Request(DemoApp.SupplierService, new GetSupplierStatus(), TimeSpan.FromSeconds(10));
                Assert.Equal("supplier-b", meanwhile.Node);
            }
            catch (TetherException ex)
            {
                failures.Add(ex.Code);
            }

            await Task.Delay(20); // one request every 20 ms while waiting for the failure detector
        }

        _output.WriteLine($"supplier-a declared unreachable after {Stopwatch.GetElapsedTime(start).TotalMilliseconds:F0} ms; {failures.Count} requests failed meanwhile: [{string.Join(", ", failures.Distinct())}]");
        Assert.All(failures, code => Assert.Contains(code, new[] { ErrorCodes.NodeStopped, ErrorCodes.NodeUnreachable, ErrorCodes.NoSuchService }));
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal("supplier-b", (await dialogs.Request(DemoApp.SupplierService, new GetSupplierStatus()).Within("supplier-b's status")).Node);
        }

        Product product = await SupplierTests.FirstWithStock(dialogs, 1);
        OrderReceipt receipt = await dialogs.Request(DemoApp.OrdersService, new PlaceOrder(product.Id, 1, Shared.Address), session: await demo.TokenAsync(dialogs)).Within("an order served by supplier-b");
        Assert.Equal(product.Stock - 1, receipt.StockLeft);
    }

    /// <summary>A nats-server, nodes with the demo's contracts and roles on it, and their database; all cleaned up at the end.</summary>
    private sealed class DemoCluster : IAsyncDisposable
    {
        private readonly List<(Node Node, BrokerProxy Proxy)> _members = [];
        private readonly TempFolder _folder = new();
        private DemoRun? _sessions;
        private string? _token;

        private DemoCluster(NatsServer server) => Server = server;

        public NatsServer Server { get; }

        private DemoOptions Options => new() { DatabasePath = _folder.File("demo.db") };

        public static async Task<DemoCluster> StartAsync() => new(await NatsServer.StartAsync(jetStream: true));

        /// <summary>The demo user's session token (right <see cref="DemoApp.OrderRight"/>), from a session manager started on <paramref name="node"/> at the first call.</summary>
        public async Task<string> TokenAsync(Node node)
        {
            if (_token is null)
            {
                _sessions = await DemoApp.StartAsync(node, DemoRoles.Sessions, Options).WaitAsync(Waits.Deadline);
                Tether.Sessions.LoginResult login = await node.Request(DemoApp.SessionsService, new Tether.Sessions.Login(DemoApp.DemoUser, DemoApp.DemoPassword)).Within("the demo user's login");
                _token = login.Token;
            }

            return _token;
        }

        public async Task<(Node Node, BrokerProxy Proxy)> AddAsync(string name, DemoRoles roles)
        {
            Tether.Sessions.SessionVerifier verifier = DemoApp.CreateVerifier(Options);
            Node node = Node.Create(new NodeOptions { Name = name, Adapters = Shared.Adapters, Sessions = verifier });
            BrokerProxy proxy;
            try
            {
                proxy = await BrokerProxy.AttachAsync(node, new BrokerOptions
                {
                    Url = Server.Url,
                    Contracts = DemoApp.RegisterContracts(new ContractRegistry()),
                    DurableTopics = DemoApp.DurableTopics,
                });
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }

            _members.Add((node, proxy));
            verifier.Attach(node); // after the broker proxy, as DemoApp.CreateVerifier says
            DemoApp.Start(node, roles, Options);
            return (node, proxy);
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (_sessions is not null)
                {
                    await _sessions.DisposeAsync();
                }

                foreach ((Node node, BrokerProxy proxy) in _members)
                {
                    try
                    {
                        await proxy.DisposeAsync(); // a second dispose (the takeover test's) does nothing
                    }
                    finally
                    {
                        await node.DisposeAsync();
                    }
                }
            }
            finally
            {
                Server.Dispose();
                _folder.Dispose();
            }
        }
    }
}
