using System.Globalization;
using Microsoft.Extensions.Configuration;
using Tether.Hosting;
using Tether.Nats;
using Tether.Sessions;

namespace Tether.Demo;

/// <summary>
/// The demo application as a module of <c>tether node --module Tether.Demo.dll</c>, the way every pod runs it: its
/// roles and settings come from configuration (section <c>Tether:Demo</c>, for example the environment variables
/// <c>Tether__Demo__Roles=web,dialogs</c>), so one image and one configuration serve every layout; only the roles of
/// each pod differ.
/// </summary>
/// <remarks>
/// Keys: <c>Tether:Demo:Roles</c> (required: web, dialogs, sessions, supplier, comma-separated), <c>Tether:Demo:WebPort</c>
/// (default 8080), <c>Tether:Demo:ListenAddress</c> (default 127.0.0.1), <c>Tether:Demo:DataFolder</c> (the SQLite files
/// and, without a signing key file, the session key; default the current folder), <c>Tether:Demo:SeedProducts</c>
/// (default 10,000), <c>Tether:Demo:Postgres</c> (a connection string: the supplier uses PostgreSQL), and
/// <c>Tether:Sessions:SigningKeyFile</c> (the PEM key that signs session tokens, shared by every pod).
/// </remarks>
public sealed class DemoModule : ITetherModule
{
    /// <summary>The configuration section of the demo's settings.</summary>
    public const string Section = "Tether:Demo";

    private readonly DemoOptions _options;
    private readonly DemoRoles _roles;
    private SessionVerifier? _verifier;
    private DemoRun? _run;

    /// <summary>Reads the demo's settings; every bad value is an <see cref="InvalidOperationException"/> naming its key.</summary>
    public DemoModule(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfigurationSection section = configuration.GetSection(Section);
        _roles = ParseRoles(section["Roles"]);
        string folder = Path.GetFullPath(section["DataFolder"] is { Length: > 0 } data ? data : ".");
        _options = new DemoOptions
        {
            DatabasePath = Path.Join(folder, "tether-demo.db"),
            PostgresConnection = section["Postgres"] is { Length: > 0 } postgres ? postgres : null,
            Port = Int(section, "WebPort", 8080),
            ListenAddress = section["ListenAddress"] is { Length: > 0 } listen ? listen : "127.0.0.1",
            SeedProducts = Int(section, "SeedProducts", 10_000),
            SigningKeyFile = configuration["Tether:Sessions:SigningKeyFile"] is { Length: > 0 } key ? key : null,
        };
        try
        {
            _options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"{Section}: {ex.Message}", ex);
        }
    }

    /// <summary>The roles this node runs (<c>Tether:Demo:Roles</c>).</summary>
    public DemoRoles Roles => _roles;

    /// <summary>What the module started, once started (its web address on a web node).</summary>
    public DemoRun? Run => _run;

    /// <summary>Parses a comma-separated list of roles (web, dialogs, sessions, supplier).</summary>
    /// <exception cref="InvalidOperationException">The list is missing, empty or names an unknown role.</exception>
    public static DemoRoles ParseRoles(string? roles)
    {
        if (string.IsNullOrWhiteSpace(roles))
        {
            throw new InvalidOperationException($"{Section}:Roles is not set: name the roles this node runs (web, dialogs, sessions, supplier; comma-separated), e.g. Tether__Demo__Roles=web,dialogs.");
        }

        DemoRoles result = DemoRoles.None;
        foreach (string role in roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result |= role switch
            {
                "web" => DemoRoles.Web,
                "dialogs" => DemoRoles.Dialogs,
                "sessions" => DemoRoles.Sessions,
                "supplier" => DemoRoles.Supplier,
                _ => throw new InvalidOperationException($"{Section}:Roles: unknown role \"{role}\" in \"{roles}\"; the roles are web, dialogs, sessions, supplier."),
            };
        }

        return result;
    }

    /// <inheritdoc/>
    public void RegisterContracts(ContractRegistry contracts) => DemoApp.RegisterContracts(contracts);

    /// <summary>The demo's adapters (its contract rules, read from beside this assembly) and its session verifier.</summary>
    public NodeOptions ConfigureNode(NodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Adapters is not null)
        {
            throw new InvalidOperationException("The demo module brings its own contract rules: leave Tether:Adapters:Specs unset.");
        }

        _verifier = DemoApp.CreateVerifier(_options);
        string contracts = Path.Join(Path.GetDirectoryName(typeof(DemoModule).Assembly.Location), "contracts");
        return options with { Adapters = DemoApp.CreateAdapters(contracts), Sessions = _verifier };
    }

    /// <summary>Not used: the demo starts asynchronously (<see cref="StartAsync"/>).</summary>
    public void Start(Node node) => throw new NotSupportedException("DemoModule starts with StartAsync (it opens its database and web server).");

    /// <summary>Starts the demo's services of <see cref="Roles"/> on the node (<see cref="DemoApp.StartAsync"/>).</summary>
    public async Task StartAsync(Node node, BrokerProxy? broker, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(node);
        _verifier?.Attach(node);
        Directory.CreateDirectory(Path.GetDirectoryName(_options.DatabasePath)!);
        _run = await DemoApp.StartAsync(node, _roles, _options, broker, cancellation).ConfigureAwait(false);
    }

    /// <summary>Stops the web server and the session manager.</summary>
    public async Task StopAsync(CancellationToken cancellation)
    {
        if (_run is { } run)
        {
            _run = null;
            await run.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static int Int(IConfigurationSection section, string key, int fallback)
    {
        string? text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new InvalidOperationException($"{Section}:{key}: \"{text}\" is not a whole number.");
    }
}
