using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tether.Nats;

namespace Tether.Hosting;

/// <summary>Starts the node's broker proxy and modules with the host, and stops them with it.</summary>
internal sealed partial class TetherHostedService(TetherRuntime runtime, TetherOptions options, IEnumerable<ITetherModule> modules, ILogger<TetherHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Node node = runtime.Node;
        ITetherModule[] all = modules.ToArray();
        if (options.Nats is { } nats)
        {
            // The modules registered their contracts on the node's registry when the node was created.
            runtime.Broker = await BrokerProxy.AttachAsync(node, nats with { Contracts = node.Contracts }, cancellationToken).ConfigureAwait(false);
        }

        foreach (ITetherModule module in all)
        {
            await module.StartAsync(node, runtime.Broker, cancellationToken).ConfigureAwait(false);
        }

        if (runtime.Broker is { } broker)
        {
            await broker.WhenServingAsync().WaitAsync(cancellationToken).ConfigureAwait(false); // "ready" means reachable
        }

        runtime.IsStarted = true;
        LogReady(logger, node.Name, options.Nats?.Url ?? "(embedded, no broker)", options.Nats?.Cluster ?? "-", string.Join(", ", all.Select(m => m.GetType().Name)), node.Statistics.Targets);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        runtime.IsStarted = false;
        try
        {
            foreach (ITetherModule module in modules.Reverse())
            {
                await module.StopAsync(cancellationToken).ConfigureAwait(false);
            }

            // The node first: ending its targets still tells their instances on other nodes, through the broker.
            await runtime.Node.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            if (runtime.Broker is { } broker)
            {
                await broker.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Tether node {Node} ready: NATS {Url}, cluster {Cluster}, modules [{Modules}], {Targets} targets")]
    private static partial void LogReady(ILogger logger, string node, string url, string cluster, string modules, int targets);
}
