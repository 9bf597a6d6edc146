using Microsoft.AspNetCore.Builder;
using Tether.Sessions;
using Tether.Skin;

namespace Tether.Demo;

/// <summary>
/// What <see cref="DemoApp.StartAsync"/> started on a node: the services, and for <see cref="DemoRoles.Web"/> the web
/// server (its URL and <see cref="SkinServer"/>), for <see cref="DemoRoles.Sessions"/> the session manager. Dispose it
/// before the node: it stops the web server and the session manager.
/// </summary>
public sealed class DemoRun : IAsyncDisposable
{
    private readonly WebApplication? _web;

    internal DemoRun(DemoServices services, WebApplication? web, SkinServer? skin, Uri? url, SessionManager? sessions)
    {
        Services = services;
        _web = web;
        Skin = skin;
        Url = url;
        Sessions = sessions;
    }

    /// <summary>The services started and one line per thing started.</summary>
    public DemoServices Services { get; }

    /// <summary>The RemoteSkin server of a web node (its <see cref="SkinServer.Statistics"/>), else null.</summary>
    public SkinServer? Skin { get; }

    /// <summary>The demo's page (<c>http://127.0.0.1:PORT/</c>) on a web node, else null.</summary>
    public Uri? Url { get; }

    /// <summary>The session manager of a sessions node, else null.</summary>
    public SessionManager? Sessions { get; }

    /// <summary>Stops the web server (closing every browser connection) and the session manager.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_web is not null)
        {
            using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            {
                await _web.StopAsync(stop.Token).ConfigureAwait(false);
            }

            await _web.DisposeAsync().ConfigureAwait(false);
        }

        if (Sessions is not null)
        {
            await Sessions.DisposeAsync().ConfigureAwait(false);
        }
    }
}
