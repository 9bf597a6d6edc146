using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tether;
using Tether.Skin;
using Tether.Skin.Internal;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps RemoteSkin and the HTTP gateway onto an ASP.NET Core application.</summary>
public static class SkinEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps RemoteSkin under <paramref name="prefix"/>: the socket <c>{prefix}/ws?app=NAME</c> (each connection a client
    /// target on <see cref="SkinServer.Node"/>), the renderer <c>{prefix}/renderer.js</c> and <c>{prefix}/skin.css</c>, and a
    /// page per application, <c>{prefix}/app/NAME</c>, that opens its start dialog. Returns a convention builder for the
    /// group, so <c>.RequireAuthorization()</c> and other conventions chain.
    /// </summary>
    public static IEndpointConventionBuilder MapTetherSkin(this IEndpointRouteBuilder endpoints, string prefix, SkinServer server)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(server);
        RouteGroupBuilder group = endpoints.MapGroup(prefix);

        // The socket endpoint carries its own WebSocket middleware (as SignalR's MapHub does), so the application
        // need not call UseWebSockets.
        IApplicationBuilder pipeline = endpoints.CreateApplicationBuilder().UseWebSockets();
        pipeline.Run(http => SkinEndpoint.HandleSocketAsync(http, server));
        RequestDelegate socket = pipeline.Build();
        group.Map("/ws", socket);
        group.MapGet("/renderer.js", (HttpContext http) => SkinEndpoint.Asset(http, "renderer.js", "text/javascript; charset=utf-8"));
        group.MapGet("/skin.css", (HttpContext http) => SkinEndpoint.Asset(http, "skin.css", "text/css; charset=utf-8"));
        group.MapGet("/app/{app}", (HttpContext http, string app) => SkinEndpoint.Page(http, server, app));
        return group;
    }

    /// <summary>
    /// Maps the HTTP gateway under <paramref name="prefix"/>: <c>POST {prefix}/{service}/{contract}</c> with a JSON body
    /// becomes a request to <c>service</c> on <paramref name="node"/>, and its answer the JSON response. Errors are
    /// <c>application/problem+json</c> naming the code (and for a contract violation the field and rule):
    /// 400 contract-violation or bad body, 401 unauthenticated (also an expired or revoked session), 403 forbidden,
    /// 404 no such service or contract, 413 body too large, 415 not JSON, 503 node unreachable, stopping or overloaded,
    /// 504 timeout, 500 anything else. <c>Authorization: Bearer TOKEN</c> becomes the request's session.
    /// <c>GET {prefix}/openapi.json</c> is an OpenAPI 3.1 document of the accepted contracts.
    /// </summary>
    public static IEndpointConventionBuilder MapTether(this IEndpointRouteBuilder endpoints, Node node, GatewayOptions options, string prefix = "/api")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(prefix);
        var gateway = new GatewayEndpoint(node, options, prefix);
        RouteGroupBuilder group = endpoints.MapGroup(prefix);
        group.MapPost("/{service}/{contract}", (HttpContext http, string service, string contract) => gateway.HandleAsync(http, service, contract));
        group.MapGet("/openapi.json", (HttpContext http) => gateway.OpenApi(http));
        return group;
    }
}
