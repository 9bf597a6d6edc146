using Microsoft.Extensions.Logging;

namespace Tether.Skin.Internal;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Client {Client} of application {App} started")]
    public static partial void ClientStarted(ILogger logger, Address client, string app);

    [LoggerMessage(2, LogLevel.Information, "Client {Client} ended: {Reason}; its {Dialogs} dialogs end with it")]
    public static partial void ClientEnded(ILogger logger, Address client, string reason, int dialogs);

    [LoggerMessage(3, LogLevel.Warning, "Client {Client}: refused a malformed frame: {Error}")]
    public static partial void Malformed(ILogger logger, Address client, string error);

    [LoggerMessage(4, LogLevel.Warning, "Client {Client}: a frame larger than {Max} bytes; closing its socket")]
    public static partial void Oversized(ILogger logger, Address client, int max);

    [LoggerMessage(5, LogLevel.Warning, "Client {Client}: {Refused} frames over its rate limit; closing its socket")]
    public static partial void Flood(ILogger logger, Address client, long refused);

    [LoggerMessage(6, LogLevel.Information, "Client {Client}: nothing arrived for {IdleMs} ms; closing its socket")]
    public static partial void PingTimeout(ILogger logger, Address client, long idleMs);

    [LoggerMessage(7, LogLevel.Warning, "Refused a WebSocket upgrade from origin {Origin}")]
    public static partial void OriginRefused(ILogger logger, string origin);

    [LoggerMessage(8, LogLevel.Information, "Client {Client}: refused {What}: {Text}")]
    public static partial void Refused(ILogger logger, Address client, string what, string text);

    [LoggerMessage(9, LogLevel.Warning, "Gateway {Service}/{Contract} answered {Status}: {Code} {Text}")]
    public static partial void GatewayError(ILogger logger, string service, string contract, int status, string code, string text);
}
