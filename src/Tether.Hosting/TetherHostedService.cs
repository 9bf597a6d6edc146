using System.Diagnostics;
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
        long start = Stopwatch.GetTimestamp();
        TimeSpan budget = options.ShutdownTimeout;
        try
        {
            foreach (ITetherModule module in modules.Reverse())
            {
                await module.StopAsync(cancellationToken).ConfigureAwait(false);
            }

            // The node next: its targets finish their turns (the drain), and ending them still tells their instances
            // on other nodes, through the broker. The modules' stop counts against the same budget.
            TimeSpan left = budget - Stopwatch.GetElapsedTime(start);
            await runtime.Node.StopAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero).ConfigureAwait(false);
        }
        finally
        {
            if (runtime.Broker is { } broker)
            {
                // Then the goodbye and the connection, within what is left of the budget: with the NATS server already
                // gone, closing could wait for a reconnect that never comes. The stop does not wait past the budget.
                TimeSpan left = budget - Stopwatch.GetElapsedTime(start);
                Task closing = broker.DisposeAsync().AsTask();
                if (left <= TimeSpan.Zero || await Task.WhenAny(closing, Task.Delay(left, CancellationToken.None)).ConfigureAwait(false) != closing)
                {
                    LogCloseAbandoned(logger, runtime.Node.Name, budget.TotalSeconds);
                }
                else
                {
                    await closing.ConfigureAwait(false);
                }
            }

            LogStopped(logger, runtime.Node.Name, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }

    [LoggerMessage(2, LogLevel.Information, "Tether node {Node} stopped in {Milliseconds:0} ms")]
    private static partial void LogStopped(ILogger logger, string node, double milliseconds);

    [LoggerMessage(3, LogLevel.Warning, "Tether node {Node}: the broker connection did not close within the shutdown timeout ({Seconds:0.#} s); the node stops without waiting for it")]
    private static partial void LogCloseAbandoned(ILogger logger, string node, double seconds);

    [LoggerMessage(1, LogLevel.Information, "Tether node {Node} ready: NATS {Url}, cluster {Cluster}, modules [{Modules}], {Targets} targets")]
    private static partial void LogReady(ILogger logger, string node, string url, string cluster, string modules, int targets);
}
