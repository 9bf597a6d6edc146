namespace Tether.Skin;

/// <summary>
/// How a web node serves browser connections: the applications it offers, liveness, the resume window and the limits
/// that protect it from bad input. Immutable; change a copy with <c>with</c>.
/// </summary>
public sealed record SkinOptions
{
    /// <summary>The defaults: no application, 10 s ping timeout, no resume window.</summary>
    public static SkinOptions Default { get; } = new();

    /// <summary>The applications a browser may open dialogs of; a connection names one (<c>?app=NAME</c>).</summary>
    public IReadOnlyList<SkinApplication> Applications { get; init; } = [];

    /// <summary>
    /// A connection from which nothing arrived for this long (the renderer answers every ping) is closed with code 4000,
    /// and its client target ends with every dialog it owns. The server pings at half this period, and one sweep per server
    /// checks every socket each quarter of it (at most every 250 ms), so a socket that just died is gone within this
    /// timeout + 250 ms. Default 10 s.
    /// </summary>
    public TimeSpan PingTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a client target outlives its socket, waiting for the renderer to reconnect with its resume token and
    /// keep its dialogs. <see cref="TimeSpan.Zero"/> (the default) ends the client as soon as its socket closes.
    /// </summary>
    public TimeSpan ResumeWindow { get; init; } = TimeSpan.Zero;

    /// <summary>The largest frame a browser may send, in bytes; a larger one closes the socket with code 1009. Default 16 KiB.</summary>
    public int MaxFrameBytes { get; init; } = 16 * 1024;

    /// <summary>The events per second a connection may send on average (a token bucket); excess frames are refused. Default 50.</summary>
    public int EventsPerSecond { get; init; } = 50;

    /// <summary>How many events a connection may send at once above the average rate. Default 100.</summary>
    public int EventBurst { get; init; } = 100;

    /// <summary>After this many refused frames (a flood) the socket is closed with code 1008. Default 200.</summary>
    public int FloodCloseAfter { get; init; } = 200;

    /// <summary>
    /// Origins (<c>scheme://host:port</c>) allowed to open a socket besides the page's own; a browser upgrade from any other
    /// origin is refused with 403. A request without an <c>Origin</c> header (not a browser) is accepted.
    /// </summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>How many frames may wait for a slow browser before its socket is closed (code 1008). Default 256.</summary>
    public int MaxQueuedFrames { get; init; } = 256;

    /// <summary>How long a client waits for a dialog's factory to create it. Default 10 s.</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
