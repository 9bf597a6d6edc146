using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Tether.Skin.Internal;

/// <summary>The socket, the renderer's files and the application pages.</summary>
internal static class SkinEndpoint
{
    private static readonly ConcurrentDictionary<string, (byte[] Bytes, string ETag)> s_assets = new(StringComparer.Ordinal);

    public static async Task HandleSocketAsync(HttpContext http, SkinServer server)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem(statusCode: 400, title: "not a WebSocket upgrade", detail: "This endpoint is RemoteSkin's socket: connect with a WebSocket (the renderer does).").ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        string? appName = http.Request.Query["app"];
        if (appName is null || !server.TryGetApplication(appName, out SkinApplication app))
        {
            await Results.Problem(statusCode: 404, title: "no such application", detail: $"No application \"{appName}\" is served here; name one with ?app=NAME.").ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        string? origin = http.Request.Headers.Origin;
        if (origin is not null && !OriginAllowed(http, server.Options, origin))
        {
            server.OriginRefused();
            Log.OriginRefused(server.Logger, origin);
            await Results.Problem(statusCode: 403, title: "origin refused", detail: $"A page from {origin} may not open this socket.").ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        using WebSocket socket = await http.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var connection = new SkinConnection(socket, server);
        server.ConnectionOpened(connection);
        try
        {
            string? resume = http.Request.Query["resume"];
            bool resumed = false;
            if (resume is not null && server.TryTakeResumable(resume, out Address previous))
            {
                try
                {
                    resumed = await server.Node.Request(previous, new Reattach(connection), TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                }
                catch (TetherException)
                {
                    resumed = false; // the client ended meanwhile: start afresh
                }
            }

            if (!resumed)
            {
                try
                {
                    connection.Client = server.Node.Spawn(() => new ClientTarget(server, app, connection));
                }
                catch (TetherException ex)
                {
                    // The node is stopping (or the client could not start): say so to this browser, which reconnects later.
                    connection.Close(WebSocketCloseStatus.EndpointUnavailable, ex.Code);
                }
            }

            await connection.RunAsync(http.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            server.ConnectionClosed(connection);
            connection.ReportClosed();
        }
    }

    public static IResult Asset(HttpContext http, string name, string contentType)
    {
        (byte[] bytes, string etag) = s_assets.GetOrAdd(name, static n =>
        {
            using Stream stream = typeof(SkinEndpoint).Assembly.GetManifestResourceStream("skin/" + n)
                ?? throw new InvalidOperationException($"The renderer's file {n} is missing from Tether.Skin's resources.");
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            byte[] data = memory.ToArray();
            return (data, "\"" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(data).AsSpan(0, 8)) + "\"");
        });
        if (http.Request.Headers.IfNoneMatch == etag)
        {
            return Results.StatusCode(304);
        }

        http.Response.Headers.ETag = etag;
        http.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(bytes, contentType);
    }

    public static IResult Page(HttpContext http, SkinServer server, string appName)
    {
        if (!server.TryGetApplication(appName, out SkinApplication app))
        {
            return Results.Problem(statusCode: 404, title: "no such application", detail: $"No application \"{appName}\" is served here.");
        }

        string title = HtmlEncoder.Default.Encode(app.Title ?? app.Name);
        string appJson = JsonSerializer.Serialize(app.Name); // a JSON string literal: safe inside the module script
        string html = $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{title}}</title>
            <link rel="stylesheet" href="../skin.css">
            <link rel="icon" href="data:,">
            </head>
            <body>
            <main id="tether-skin" class="tether-skin"></main>
            <script type="module">
            import { connect } from "../renderer.js";
            connect(document.getElementById("tether-skin"), { app: {{appJson}} });
            </script>
            </body>
            </html>
            """;
        http.Response.Headers[HeaderNames.CacheControl] = "no-cache";
        return Results.Content(html, "text/html; charset=utf-8");
    }

    private static bool OriginAllowed(HttpContext http, SkinOptions options, string origin)
    {
        foreach (string allowed in options.AllowedOrigins)
        {
            if (string.Equals(allowed.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        // The page's own origin: the origin's host and port are the ones this request was made to.
        return Uri.TryCreate(origin, UriKind.Absolute, out Uri? uri)
            && string.Equals(uri.Authority, http.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
