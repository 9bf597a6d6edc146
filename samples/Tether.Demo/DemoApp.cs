using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tether.Adapters;
using Tether.Demo.Dialogs;
using Tether.Demo.Internal;
using Tether.Nats;
using Tether.Sessions;
using Tether.Skin;

namespace Tether.Demo;

/// <summary>
/// The demo application's composition: which services a node runs for its <see cref="DemoRoles"/>, the message
/// contracts (declarative rules and wire names) and the stock topic. The same code runs as one process or as three
/// nodes over NATS (web, dialogs, supplier); only the roles given to each node differ.
/// </summary>
/// <example>
/// <code>
/// var options = new DemoOptions { DatabasePath = "demo.db" };
/// SessionVerifier verifier = DemoApp.CreateVerifier(options);
/// await using Node node = Node.Create(new NodeOptions { Name = "demo", Adapters = DemoApp.CreateAdapters(), Sessions = verifier });
/// verifier.Attach(node);
/// await using DemoRun shop = await DemoApp.StartAsync(node, DemoRoles.Supplier | DemoRoles.Dialogs | DemoRoles.Sessions, options);
/// ProductPage page = await node.Request(DemoApp.SupplierService, new SearchProducts("oak cha"));
/// LoginResult login = await node.Request(DemoApp.SessionsService, new Login(DemoApp.DemoUser, DemoApp.DemoPassword));
/// OrderReceipt receipt = await node.Request(DemoApp.OrdersService,
///     new PlaceOrder(page.Items[0].Id, 2, new ShipTo("Ada Lovelace", "1 Analytical Way", "London", "NW1 2AB", "GB")), session: login.Token);
/// </code>
/// </example>
/// <remarks>
/// Dialogs only send these messages: a catalogue dialog sends <see cref="SearchProducts"/> to
/// <see cref="SupplierService"/> and subscribes to <see cref="StockTopic"/> for <see cref="StockChanged"/>; an order
/// dialog sends <see cref="PlaceOrder"/> to <see cref="OrdersService"/> with its user's session (the desk requires
/// <see cref="OrderRight"/>) and shows a <see cref="ErrorCodes.ContractViolation"/> at the field its text names.
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
    public static IReadOnlySet<string> DurableTopics { get; } = new HashSet<string>(StringComparer.Ordinal) { StockTopic, SessionManager.DefaultRevocationTopic };

    /// <summary>The session manager's service name.</summary>
    public const string SessionsService = SessionManager.DefaultServiceName;

    /// <summary>The right placing an order needs: the order desk declares it (<see cref="PlaceOrder"/> to <see cref="OrdersService"/> carries a session that holds it). Granted to the demo user.</summary>
    public const string OrderRight = "orders.place";

    /// <summary>The demo user created on first start.</summary>
    public const string DemoUser = "demo";

    /// <summary>The demo user's password (a demo on 127.0.0.1; change it with <c>tether users passwd demo --db FOLDER/tether-demo-users.db</c>).</summary>
    public const string DemoPassword = "tether-demo";

    /// <summary>The RemoteSkin application's name: the page is <c>/skin/app/shop</c> (<c>/</c> redirects there).</summary>
    public const string ApplicationName = "shop";

    /// <summary>The login dialog's name in the application (its service: <c>demo-login</c>).</summary>
    public const string LoginDialog = "login";

    /// <summary>The catalogue dialog's name in the application.</summary>
    public const string CatalogueDialog = "catalogue";

    /// <summary>The order dialog's name in the application (its argument is the product id).</summary>
    public const string OrderDialog = "order";

    /// <summary>The operator dialog's name in the application.</summary>
    public const string OperatorDialog = "operator";

    /// <summary>The demo's RemoteSkin application: protected by the login dialog; the dialogs' services are <c>demo-NAME</c>.</summary>
    public static SkinApplication Application { get; } = new SkinApplication(ApplicationName, LoginDialog) { LoginDialog = LoginDialog, Title = "Tether demo shop" }
        .WithDialog(LoginDialog, "demo-" + LoginDialog)
        .WithDialog(CatalogueDialog, "demo-" + CatalogueDialog)
        .WithDialog(OrderDialog, "demo-" + OrderDialog)
        .WithDialog(OperatorDialog, "demo-" + OperatorDialog);

    /// <summary>The session keys' PEM file: <see cref="DemoOptions.SigningKeyFile"/> when set, else beside the database (the data folder every node of the demo shares).</summary>
    public static string SessionKeyPath(DemoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.SigningKeyFile ?? Path.Join(DataFolder(options), "tether-demo-sessions.pem");
    }

    /// <summary>The session manager's SQLite file of users: beside the database.</summary>
    public static string UsersPath(DemoOptions options) => Path.Join(DataFolder(options), "tether-demo-users.db");

    /// <summary>
    /// The session keys: read from <see cref="SessionKeyPath"/>, or generated there on first start (PEM, written whole
    /// and then moved into place, so several processes starting at once agree on one key). The key is never printed.
    /// </summary>
    public static SessionKeys LoadOrCreateKeys(DemoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string path = SessionKeyPath(options);
        if (options.SigningKeyFile is not null && !File.Exists(path))
        {
            throw new ArgumentException($"DemoOptions.SigningKeyFile {path}: the file does not exist (a PEM private key that signs the session tokens).");
        }

        if (!File.Exists(path))
        {
            Directory.CreateDirectory(DataFolder(options));
            string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(temp, SessionKeys.Generate().ExportPrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temp); // another process of the demo won
            }
        }

        return SessionKeys.FromPrivateKeyFile(path);
    }

    /// <summary>A session verifier with the demo's public key, for <see cref="NodeOptions.Sessions"/> of every demo node (attach it after the broker proxy).</summary>
    public static SessionVerifier CreateVerifier(DemoOptions options) => new(LoadOrCreateKeys(options).PublicOnly());

    /// <summary>
    /// Starts the whole application on <paramref name="node"/> for <paramref name="roles"/>: the services of
    /// <see cref="Start"/>, and for <see cref="DemoRoles.Dialogs"/> the four dialogs' collectors (<see cref="Application"/>),
    /// for <see cref="DemoRoles.Sessions"/> the session manager on <see cref="UsersPath"/> (with the demo user on first
    /// start), for <see cref="DemoRoles.Web"/> Kestrel on 127.0.0.1:<see cref="DemoOptions.Port"/> serving RemoteSkin
    /// (<c>/skin</c>), the HTTP gateway (<c>/api</c>) and <c>/</c> (a redirect to the shop). The node needs
    /// <see cref="CreateVerifier"/> as its <see cref="NodeOptions.Sessions"/>.
    /// </summary>
    /// <param name="node">The node.</param>
    /// <param name="roles">What it runs.</param>
    /// <param name="options">The settings.</param>
    /// <param name="broker">The node's broker proxy when NATS is attached (the operator dialog shows its peers and latencies).</param>
    /// <param name="cancellation">Cancels the start.</param>
    public static async Task<DemoRun> StartAsync(Node node, DemoRoles roles, DemoOptions? options = null, BrokerProxy? broker = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        options ??= DemoOptions.Default;
        DemoServices services = Start(node, roles & (DemoRoles.Supplier | DemoRoles.Dialogs), options);
        List<string> started = [.. services.Started];
        SessionManager? sessions = null;
        WebApplication? web = null;
        SkinServer? skin = null;
        Uri? url = null;
        try
        {
            if (roles.HasFlag(DemoRoles.Dialogs))
            {
                node.RegisterDialog("demo-" + LoginDialog, () => new LoginDialog());
                node.RegisterDialog("demo-" + CatalogueDialog, () => new CatalogueDialog());
                node.RegisterDialog("demo-" + OrderDialog, () => new OrderDialog());
                node.RegisterDialog("demo-" + OperatorDialog, () => new OperatorDialog(broker));
                started.Add("dialogs: login, catalogue, order, operator");
            }

            if (roles.HasFlag(DemoRoles.Sessions))
            {
                sessions = await SessionManager.StartAsync(node, new SessionManagerOptions { Keys = LoadOrCreateKeys(options), SqlitePath = UsersPath(options), WorkFactor = WorkFactor }, cancellation).ConfigureAwait(false);
                if (await sessions.Users.FindUserAsync(DemoUser, cancellation).ConfigureAwait(false) is null)
                {
                    await sessions.Users.CreateUserAsync(DemoUser, DemoPassword, [OrderRight], WorkFactor, cancellation).ConfigureAwait(false);
                }

                started.Add($"sessions: session manager as service \"{SessionsService}\" (users in {UsersPath(options)})");
            }

            if (roles.HasFlag(DemoRoles.Web))
            {
                skin = SkinServer.Create(node, new SkinOptions { Applications = [Application] }, node.Options.LoggerFactory);
                WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
                builder.Logging.ClearProviders();
                builder.WebHost.UseUrls($"http://{options.ListenAddress}:{options.Port}");
                web = builder.Build();
                web.MapGet("/", () => Results.Redirect($"/skin/app/{ApplicationName}"));
                web.MapTetherSkin("/skin", skin);
                web.MapTether(node, new GatewayOptions
                {
                    Contracts = new GatewayContracts()
                        .Add<SearchProducts, ProductPage>("demo.search-products")
                        .Add<PlaceOrder, OrderReceipt>("demo.place-order"),
                    Title = "Tether demo",
                });
                await web.StartAsync(cancellation).ConfigureAwait(false);
                string address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
                url = new Uri(address.TrimEnd('/') + "/");
                started.Add($"web: {url} (RemoteSkin at /skin/app/{ApplicationName}, the HTTP gateway at /api)");
            }
        }
        catch
        {
            if (web is not null)
            {
                await web.DisposeAsync().ConfigureAwait(false);
            }

            if (sessions is not null)
            {
                await sessions.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return new DemoRun(services with { Roles = roles, Started = started }, web, skin, url, sessions);
    }

    // BCrypt's work factor for the demo's users: 10 (about 60 ms a login) rather than the default 12, so a login on a busy
    // laptop or test machine answers quickly; a production store keeps 12 or more.
    private const int WorkFactor = 10;

    private static string DataFolder(DemoOptions options)
        => Path.GetDirectoryName(Path.GetFullPath(options.DatabasePath)) ?? Directory.GetCurrentDirectory();

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

    /// <summary>Registers every demo message under its contract name for the wire, with RemoteSkin's and the session manager's (do it on every node, before the broker proxy attaches).</summary>
    public static ContractRegistry RegisterContracts(ContractRegistry contracts)
    {
        ArgumentNullException.ThrowIfNull(contracts);
        SessionContracts.Register(contracts.RegisterSkin());
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
