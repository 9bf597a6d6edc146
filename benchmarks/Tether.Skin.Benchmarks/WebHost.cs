using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tether.Skin.Benchmarks;

/// <summary>Kestrel on 127.0.0.1 (a free port) serving the bench application's page and socket for one web node.</summary>
internal sealed class WebHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebHost(WebApplication app, SkinServer server, Uri baseUri)
    {
        _app = app;
        Server = server;
        BaseUri = baseUri;
    }

    public SkinServer Server { get; }

    public Uri BaseUri { get; }

    public Uri Page => new(BaseUri, $"/skin/app/{BenchDialog.Name}");

    public Uri Socket => new(new Uri(BaseUri.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), $"/skin/ws?app={BenchDialog.Name}");

    public static async Task<WebHost> StartAsync(Node web, Action<WebApplication>? map = null)
    {
        SkinServer server = SkinServer.Create(web, BenchDialog.Options);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication app = builder.Build();
        app.MapTetherSkin("/skin", server);
        map?.Invoke(app);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new WebHost(app, server, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(stop.Token);
        }

        await _app.DisposeAsync();
    }
}
