using System.Diagnostics.Metrics;

namespace Tether.Skin.Internal;

/// <summary>The Meter "Tether.Skin": what browsers sent that was refused, and what is connected.</summary>
internal static class SkinMetrics
{
    public const string MeterName = "Tether.Skin";

    private static readonly Meter s_meter = new(MeterName);

    public static readonly Counter<long> BadFrames = s_meter.CreateCounter<long>("tether.skin.frames.bad", description: "Frames from browsers refused: malformed, oversized, unknown or ended dialog, refused open (tag: reason)");
    public static readonly Counter<long> RateLimited = s_meter.CreateCounter<long>("tether.skin.frames.rate_limited", description: "Frames from browsers refused by the per-connection rate limit");
    public static readonly Counter<long> OriginsRefused = s_meter.CreateCounter<long>("tether.skin.origins.refused", description: "WebSocket upgrades refused for their Origin");
    public static readonly Counter<long> FramesIn = s_meter.CreateCounter<long>("tether.skin.frames.in", description: "Frames received from browsers");
    public static readonly Counter<long> FramesOut = s_meter.CreateCounter<long>("tether.skin.frames.out", description: "Frames sent to browsers");
    public static readonly UpDownCounter<long> Clients = s_meter.CreateUpDownCounter<long>("tether.skin.clients", description: "Client targets alive");
    public static readonly Counter<long> GatewayRequests = s_meter.CreateCounter<long>("tether.skin.gateway.requests", description: "HTTP gateway requests (tag: status)");
}
