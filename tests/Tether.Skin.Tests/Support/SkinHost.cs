using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tether.Adapters;

namespace Tether.Skin.Tests.Support;

/// <summary>A real Kestrel on 127.0.0.1 (a free port) serving RemoteSkin and the gateway for one node.</summary>
internal sealed class SkinHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SkinHost(WebApplication app, Node node, SkinServer server, Uri baseUri)
    {
        _app = app;
        Node = node;
        Server = server;
        BaseUri = baseUri;
    }

    public Node Node { get; }

    public SkinServer Server { get; }

    public Uri BaseUri { get; }

    public Uri Page(string app) => new(BaseUri, $"/skin/app/{app}");

    public Uri Socket(string app) => new(new Uri(BaseUri.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), $"/skin/ws?app={app}");

    public static SkinApplication App(string name, string start) => new SkinApplication(name, start).WithDialog(start, start);

    public static SkinOptions DefaultOptions => SkinOptions.Default with
    {
        Applications =
        [
            App("counter", "counter"),
            App("table", "table"),
            App("search", "search"),
            App("signup", "signup"),
            new SkinApplication("shop", "login") { LoginDialog = "login" }.WithDialog("login", "login").WithDialog("counter", "counter"),
        ],
    };

    public static MessageAdapters Adapters() => MessageAdapters.CreateBuilder()
        .Register<Signup>("test.signup")
        .AddContract("test.signup", c => c.Field("age", f => f.Range(18, 120)))
        .Register<UiEvent>("skin.event")
        .AddContract("skin.event", c => c.Enforce(Enforcement.Both).Field("value", f => f.Length(0, 100)))
        .Build();

    /// <summary>Registers the test dialogs and the registry service on <paramref name="node"/>.</summary>
    public static void RegisterDialogs(Node node)
    {
        node.RegisterDialog("counter", () => new CounterDialog());
        node.RegisterDialog("table", () => new TableDialog());
        node.RegisterDialog("search", () => new SearchDialog());
        node.RegisterDialog("signup", () => new SignupDialog());
        node.RegisterDialog("login", () => new LoginDialog());
        node.RegisterService("registry", node.Spawn(() => new Registry()));
    }

    /// <summary>Starts Kestrel for <paramref name="web"/> (the host disposes it), or for a fresh node with every test dialog.</summary>
    public static async Task<SkinHost> StartAsync(SkinOptions? options = null, Action<Node>? setUp = null, GatewayOptions? gateway = null, Node? web = null)
    {
        Node node = web ?? Node.Create(new NodeOptions { Name = "web", Adapters = Adapters() });
        if (web is null)
        {
            RegisterDialogs(node);
        }

        setUp?.Invoke(node);

        SkinServer server = SkinServer.Create(node, options ?? DefaultOptions);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication app = builder.Build();
        app.MapTetherSkin("/skin", server);
        app.MapTether(node, gateway ?? new GatewayOptions());
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            await node.DisposeAsync();
            throw;
        }

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new SkinHost(app, node, server, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(stop.Token);
        }

        await _app.DisposeAsync();
        await Node.DisposeAsync();
    }
}
