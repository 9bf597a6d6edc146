using Microsoft.Extensions.Logging;
using Tether.Adapters;
using Tether.Demo.Internal;
using Tether.Nats;

namespace Tether.Demo;

/// <summary>
/// The demo application's composition: which services a node runs for its <see cref="DemoRoles"/>, the message
/// contracts (declarative rules and wire names) and the stock topic. The same code runs as one process or as three
/// nodes over NATS (web, dialogs, supplier); only the roles given to each node differ.
/// </summary>
/// <example>
/// <code>
/// await using Node node = Node.Create(new NodeOptions { Name = "demo", Adapters = DemoApp.CreateAdapters() });
/// DemoServices started = DemoApp.Start(node, DemoRoles.All, new DemoOptions { DatabasePath = "demo.db" });
/// ProductPage page = await node.Request(DemoApp.SupplierService, new SearchProducts("oak cha"));
/// OrderReceipt receipt = await node.Request(DemoApp.OrdersService,
///     new PlaceOrder(page.Items[0].Id, 2, new ShipTo("Ada Lovelace", "1 Analytical Way", "London", "NW1 2AB", "GB")));
/// </code>
/// </example>
/// <remarks>
/// Dialogs only send these messages: a catalogue dialog sends <see cref="SearchProducts"/> to
/// <see cref="SupplierService"/> and subscribes to <see cref="StockTopic"/> for <see cref="StockChanged"/>; an order
/// dialog sends <see cref="PlaceOrder"/> to <see cref="OrdersService"/> and shows a <see cref="ErrorCodes.ContractViolation"/>
/// at the field its text names.
/// </remarks>
public static class DemoApp
{
    /// <summary>The supplier's service name: the resource handler near the database.</summary>
    public const string SupplierService = "supplier";

    /// <summary>The order desk's service name.</summary>
    public const string OrdersService = "orders";

    /// <summary>The topic of <see cref="StockChanged"/> events; name it in <see cref="BrokerOptions.DurableTopics"/> so a late subscriber gets the latest change.</summary>
    public const string StockTopic = "demo.stock";

    /// <summary>The name of the demo's <see cref="System.Diagnostics.ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string TelemetryName = "Tether.Demo";

    /// <summary>The topics the demo keeps on JetStream when NATS is attached (<see cref="BrokerOptions.DurableTopics"/>).</summary>
    public static IReadOnlySet<string> DurableTopics { get; } = new HashSet<string>(StringComparer.Ordinal) { StockTopic };

    /// <summary>The folder of the demo's contract specs beside the assembly (<c>contracts/*.yaml</c>, copied to the output).</summary>
    public static string ContractsDirectory => Path.Join(AppContext.BaseDirectory, "contracts");

    /// <summary>
    /// The demo's message adapters: each message type registered under its contract name, and the rules read from
    /// <paramref name="contractsDirectory"/> (default <see cref="ContractsDirectory"/>). Give it to <see cref="NodeOptions.Adapters"/>
    /// on every node that hosts a demo service, so a message that breaks a rule is refused at the mailbox.
    /// </summary>
    /// <exception cref="ContractSpecException">A spec file is malformed; the message lists every error as file:line:col.</exception>
    public static MessageAdapters CreateAdapters(string? contractsDirectory = null)
    {
        MessageAdaptersBuilder builder = MessageAdapters.CreateBuilder();
        foreach ((Type type, string name) in s_ruled)
        {
            builder.Register(type, name);
        }

        return builder.AddDirectory(contractsDirectory ?? ContractsDirectory).Build();
    }

    /// <summary>Registers every demo message under its contract name for the wire (do it on every node, before the broker proxy attaches).</summary>
    public static ContractRegistry RegisterContracts(ContractRegistry contracts)
    {
        ArgumentNullException.ThrowIfNull(contracts);
        contracts.Register<SearchProducts>("demo.search-products")
            .Register<ProductPage>("demo.product-page")
            .Register<Product>("demo.product")
            .Register<GetProduct>("demo.get-product")
            .Register<PlaceOrder>("demo.place-order")
            .Register<ShipTo>("demo.ship-to")
            .Register<OrderReceipt>("demo.order-receipt")
            .Register<RecordOrder>("demo.record-order")
            .Register<OrderRecorded>("demo.order-recorded")
            .Register<ListOrders>("demo.list-orders")
            .Register<OrderList>("demo.order-list")
            .Register<OrderRow>("demo.order-row")
            .Register<StockChanged>("demo.stock-changed")
            .Register<GetSupplierStatus>("demo.get-supplier-status")
            .Register<SupplierStatus>("demo.supplier-status");
        return contracts;
    }

    /// <summary>
    /// Starts the services of <paramref name="roles"/> on <paramref name="node"/> (embedded, or with a broker proxy
    /// attached: then other nodes reach them by service name). <see cref="DemoRoles.Supplier"/> opens the database first
    /// (creating and seeding it on first start), so it is ready when this returns. The services end with the node.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static DemoServices Start(Node node, DemoRoles roles, DemoOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        options ??= DemoOptions.Default;
        options.Validate();
        ILogger logger = node.Options.LoggerFactory.CreateLogger(TelemetryName);
        List<string> started = [];
        Address supplier = default;
        Address desk = default;
        string? database = null;

        if (roles.HasFlag(DemoRoles.Supplier))
        {
            supplier = node.Spawn(() => new Supplier(options, logger));
            node.RegisterService(SupplierService, supplier);
            database = options.PostgresConnection is null ? $"SQLite {Path.GetFullPath(options.DatabasePath)}" : "PostgreSQL";
            started.Add($"supplier ({database}) as service \"{SupplierService}\" at {supplier}");
        }

        if (roles.HasFlag(DemoRoles.Dialogs))
        {
            desk = node.Spawn(() => new OrderDesk(logger));
            node.RegisterService(OrdersService, desk);
            started.Add($"order desk as service \"{OrdersService}\" at {desk}");
        }

        if (roles.HasFlag(DemoRoles.Web))
        {
            started.Add("web: no browser endpoint yet (Tether.Skin is wired in separately)");
        }

        if (roles.HasFlag(DemoRoles.Sessions))
        {
            started.Add("sessions: no session manager yet (Tether.Sessions is wired in separately)");
        }

        return new DemoServices(node.Name, roles, supplier, desk, started);
    }

    // The message types the contract specs give rules for.
    /// <summary>
    /// Waits until a supplier answers <paramref name="node"/>'s <see cref="GetSupplierStatus"/>: right after nodes start,
    /// the service may not be known yet (NATS says no responders until the supplier's node has subscribed), so a node
    /// that depends on it asks again, every 100 ms, until <paramref name="deadline"/>.
    /// </summary>
    /// <exception cref="TetherException">No supplier answered in time: the last error, with the time waited in its text.</exception>
    public static async Task<SupplierStatus> WaitForSupplierAsync(Node node, TimeSpan deadline, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            TimeSpan left = deadline - System.Diagnostics.Stopwatch.GetElapsedTime(start);
            try
            {
                return await node.Request(SupplierService, new GetSupplierStatus(), left > TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : left < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : left).ConfigureAwait(false);
            }
            catch (TetherException ex) when (ex.Code is ErrorCodes.NoSuchService or ErrorCodes.NodeUnreachable or ErrorCodes.NoSuchTarget or ErrorCodes.Timeout)
            {
                if (System.Diagnostics.Stopwatch.GetElapsedTime(start) >= deadline)
                {
                    throw new TetherException(ex.Code, $"No supplier answered within {deadline.TotalSeconds:F0} s: {ex.Message}", ex);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellation).ConfigureAwait(false);
            }
        }
    }

    private static readonly (Type Type, string Name)[] s_ruled =
    [
        (typeof(SearchProducts), "demo.search-products"),
        (typeof(PlaceOrder), "demo.place-order"),
        (typeof(ShipTo), "demo.ship-to"),
        (typeof(RecordOrder), "demo.record-order"),
        (typeof(ListOrders), "demo.list-orders"),
    ];
}
