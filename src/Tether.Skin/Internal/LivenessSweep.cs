namespace Tether.Skin.Internal;

/// <summary>
/// The web node's liveness check: every <see cref="Period"/> it closes the sockets from which nothing arrived within the
/// ping timeout (code 4000), which ends their clients at once. One target for all connections, so that 10,000 idle
/// clients cost one timer here, not 10,000.
/// </summary>
internal sealed class LivenessSweep(SkinServer server) : Target, ITarget<LivenessSweep>
{
    private readonly SkinServer _server = server;

    public static void Wire(Channels<LivenessSweep> channels) => channels
        .On<PingTick>(static (self, m, ctx) => self._server.Sweep());

    /// <summary>A quarter of the ping timeout, at most 250 ms: a dead socket is found well within the timeout plus 1 s.</summary>
    public static TimeSpan Period(SkinOptions options)
    {
        TimeSpan quarter = options.PingTimeout / 4;
        return quarter < TimeSpan.FromMilliseconds(250) ? quarter : TimeSpan.FromMilliseconds(250);
    }

    protected override void OnStarted(Context context) => context.ScheduleEvery(Period(_server.Options), PingTick.Instance);
}
