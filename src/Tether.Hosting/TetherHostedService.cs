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
        if (!string.IsNullOrWhiteSpace(options.Nats.Url))
        {
            var contracts = new ContractRegistry();
            foreach (ITetherModule module in all)
            {
                module.RegisterContracts(contracts);
            }

            TetherNatsOptions nats = options.Nats;
            runtime.Broker = await BrokerProxy.AttachAsync(node, new BrokerOptions
            {
                Url = nats.Url,
                Cluster = nats.Cluster,
                User = nats.User,
                Password = nats.Password,
                Token = nats.Token,
                CredsFile = nats.CredsFile,
                NKeyFile = nats.NKeyFile,
                Tls = nats.Tls,
                TlsCaFile = nats.TlsCaFile,
                HeartbeatInterval = nats.HeartbeatInterval,
                FailureTimeout = nats.FailureTimeout,
                JetStreamDomain = nats.JetStreamDomain,
                Contracts = contracts,
            }, cancellationToken).ConfigureAwait(false);
        }

        foreach (ITetherModule module in all)
        {
            module.Start(node);
        }

        if (runtime.Broker is { } broker)
        {
            await broker.WhenServingAsync().WaitAsync(cancellationToken).ConfigureAwait(false); // "ready" means reachable
        }

        runtime.IsStarted = true;
        LogReady(logger, node.Name, options.Nats.Url ?? "(embedded, no broker)", options.Nats.Cluster, string.Join(", ", all.Select(m => m.GetType().Name)), node.Statistics.Targets);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        runtime.IsStarted = false;
        try
        {
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
