using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tether.Hosting;

/// <summary>Healthy while the node runs and, when it uses NATS, its broker connection is open.</summary>
internal sealed class TetherHealthCheck(TetherRuntime runtime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        NodeStatistics stats = runtime.Node.Statistics;
        var data = new Dictionary<string, object>
        {
            ["node"] = runtime.Node.Name,
            ["targets"] = stats.Targets,
            ["mailbox_depth"] = stats.MailboxDepth,
            ["dropped"] = stats.Dropped,
        };
        if (!runtime.IsStarted)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"Tether node {runtime.Node.Name} is not started.", data: data));
        }

        if (runtime.Broker is { } broker)
        {
            data["peers"] = broker.Peers.Count;
            if (!broker.IsConnected)
            {
                return Task.FromResult(HealthCheckResult.Degraded($"Tether node {runtime.Node.Name} has lost its NATS connection (reconnecting).", data: data));
            }
        }

        return Task.FromResult(HealthCheckResult.Healthy($"Tether node {runtime.Node.Name} is running.", data));
    }
}
