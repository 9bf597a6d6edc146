using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Tether.Nats.Internal;

/// <summary>
/// Logs what happens to the node's NATS connection in Tether's own words: a disconnect (for example the server cutting
/// off a slow consumer), the reconnect, a server error, and a subscription that fell behind. NATS.Net reconnects by
/// itself; frames in flight at a disconnect may be lost (sends are at most once), and at the reconnect flow control
/// starts a new count with every peer, so that credit lost with those frames is not missing for good
/// (<see cref="FlowControl.OnReconnected"/>).
/// </summary>
internal sealed partial class ConnectionWatch(BrokerProxy proxy)
{
    private readonly BrokerProxy _proxy = proxy;
    private long _disconnects;

    /// <summary>Disconnects seen so far (for tests).</summary>
    public long Disconnects => Interlocked.Read(ref _disconnects);

    public void Start()
    {
        NatsConnection nats = _proxy.Link.Nats;
        nats.ConnectionDisconnected += OnDisconnected;
        nats.ConnectionOpened += OnOpened;
        nats.ServerError += OnServerError;
        nats.SlowConsumerDetected += OnSlowConsumer;
    }

    private ValueTask OnDisconnected(object? sender, NatsEventArgs args)
    {
        if (_proxy.Link.Stopping.IsCancellationRequested)
        {
            return ValueTask.CompletedTask; // closing: not news
        }

        long count = Interlocked.Increment(ref _disconnects);
        LogDisconnected(_proxy.Logger, _proxy.NodeName, args.Message, count);
        return ValueTask.CompletedTask;
    }

    private ValueTask OnOpened(object? sender, NatsEventArgs args)
    {
        if (Interlocked.Read(ref _disconnects) > 0)
        {
            LogReconnected(_proxy.Logger, _proxy.NodeName, args.Message);
            _proxy.Flow.OnReconnected(); // credit lost with frames in flight comes back at once, not after a 3 s stall
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnServerError(object? sender, NatsServerErrorEventArgs args)
    {
        LogServerError(_proxy.Logger, _proxy.NodeName, args.Error);
        return ValueTask.CompletedTask;
    }

    private ValueTask OnSlowConsumer(object? sender, NatsSlowConsumerEventArgs args)
    {
        LogSlowSubscription(_proxy.Logger, _proxy.NodeName, args.Subscription.Subject);
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(76, LogLevel.Warning, "Node {Node} lost its NATS connection ({Reason}; disconnects so far: {Count}); it reconnects by itself, and frames in flight may be lost (sends are at most once)")]
    private static partial void LogDisconnected(ILogger logger, string node, string reason, long count);

    [LoggerMessage(77, LogLevel.Information, "Node {Node} is connected to NATS again ({Detail})")]
    private static partial void LogReconnected(ILogger logger, string node, string detail);

    [LoggerMessage(78, LogLevel.Warning, "The NATS server reported an error to node {Node}: {Error}")]
    private static partial void LogServerError(ILogger logger, string node, string error);

    [LoggerMessage(79, LogLevel.Warning, "Node {Node} fell behind on its subscription {Subject}: NATS.Net dropped messages (slow consumer)")]
    private static partial void LogSlowSubscription(ILogger logger, string node, string subject);
}
