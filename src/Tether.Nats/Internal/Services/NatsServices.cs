using System.Collections.Concurrent;
using NATS.Client.Services;

namespace Tether.Nats.Internal;

/// <summary>
/// Services and routing: each local service or factory served to other nodes as a NATS micro-service (one endpoint on
/// <c>tether.{cluster}.svc.{service}</c> in a queue group, so <c>$SRV.PING/INFO/STATS</c> see it), and what arrives
/// there handed to a local instance. Which instance a request goes to is the <see cref="ServiceRouter"/>'s choice,
/// learned from heartbeats (<see cref="Heartbeats"/>) and answer times (<see cref="Replies"/>).
/// </summary>
internal sealed class NatsServices(BrokerProxy proxy, NATS.Client.Core.NatsConnection nats)
{
    private readonly BrokerProxy _proxy = proxy;
    private readonly ConcurrentDictionary<string, Task> _services = new(StringComparer.Ordinal);
    private readonly NatsSvcContext _svc = new(nats);
    private readonly List<INatsSvcServer> _svcServers = [];
    private int _announcePending;

    /// <summary>True while an announcement of changed services is still to follow (see <see cref="ServicesChanged"/>); for tests.</summary>
    internal bool AnnouncePending => Volatile.Read(ref _announcePending) != 0;

    /// <summary>Completes when every service and factory of this node is served on the broker (their subscriptions are in place).</summary>
    public Task WhenServingAsync() => Task.WhenAll(_services.Values);

    /// <summary>Stops serving: the micro-services leave the broker.</summary>
    public async Task StopAsync()
    {
        INatsSvcServer[] servers;
        lock (_svcServers)
        {
            servers = [.. _svcServers];
        }

        foreach (INatsSvcServer server in servers)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Serves a service (a factory or registered instances) to other nodes: a NATS micro-service named after it, so
    /// <c>$SRV.PING/INFO/STATS</c> see it, with one endpoint on <c>tether.{cluster}.svc.{service}</c> in a queue group.
    /// </summary>
    public Task ServeAsync(string service)
    {
        if (!BrokerOptions.IsToken(service) || _proxy.Link.Stopping.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        Task serving = _services.GetOrAdd(service, name => AddServiceAsync(name));
        ForgetIfFailed(_services, service, serving);
        return serving;
    }

    private async Task AddServiceAsync(string service)
    {
        try
        {
            INatsSvcServer server = await _svc.AddServiceAsync(
                new NatsSvcConfig(service, "1.0.0") { Description = $"Tether service {service} on node {_proxy.NodeName}", Metadata = new Dictionary<string, string> { ["tether.node"] = _proxy.NodeName, ["tether.cluster"] = _proxy.Options.Cluster } },
                _proxy.Link.Stopping.Token).ConfigureAwait(false);
            lock (_svcServers)
            {
                _svcServers.Add(server);
            }

            await server.AddEndpointAsync<byte[]>(
                svcMsg =>
                {
                    var msg = new Incoming(svcMsg.Subject, svcMsg.ReplyTo, svcMsg.Data ?? ReadOnlyMemory<byte>.Empty);
                    Interlocked.Increment(ref _proxy.Hot.Received);
                    try
                    {
                        OnService(msg, service);
                    }
#pragma warning disable CA1031 // one bad message never stops the endpoint
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        _proxy.Inbound.BadFrame(msg, ex.Message);
                    }

                    return ValueTask.CompletedTask;
                },
                name: "tether",
                subject: $"{_proxy.Link.Prefix}.svc.{service}",
                queueGroup: $"{_proxy.Link.Prefix}.svc",
                cancellationToken: _proxy.Link.Stopping.Token).ConfigureAwait(false);
            await _proxy.Link.Nats.PingAsync(_proxy.Link.Stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnService(Incoming msg, string service)
    {
        if (!_proxy.Inbound.TryOpen(msg, out Frame frame, out int payloadAt))
        {
            return;
        }

        switch (frame.Kind)
        {
            case FrameKind.Create:
                _proxy.Factories.OnCreate(msg, frame, payloadAt);
                break;
            case FrameKind.Send or FrameKind.Request or FrameKind.Event:
                if (frame.Kind == FrameKind.Request && msg.ReplyTo is { } replyTo)
                {
                    _proxy.Replies.SendAccepted(replyTo);
                }

                _proxy.Inbound.DeliverLocally(msg, frame, payloadAt, service);
                break;
            default:
                _proxy.Inbound.BadFrame(msg, $"a {frame.Kind} frame does not belong on a service subject");
                break;
        }
    }

    public void ServicesChanged()
    {
        foreach (string service in _proxy.NodeHost.LocalServices().Keys)
        {
            _ = ServeAsync(service);
        }

        // Announce at once; a burst of registrations right after is folded into one more announcement.
        if (Interlocked.Exchange(ref _announcePending, 1) == 0)
        {
            _proxy.Heartbeats.Announce();
            _ = Task.Delay(TimeSpan.FromMilliseconds(20), _proxy.Link.Stopping.Token).ContinueWith(
                static (_, s) =>
                {
                    var services = (NatsServices)s!;
                    Volatile.Write(ref services._announcePending, 0);
                    if (!services._proxy.Link.Stopping.IsCancellationRequested)
                    {
                        services._proxy.Heartbeats.Announce();
                    }
                },
                this,
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion,
                TaskScheduler.Default);
        }
    }

    /// <summary>A subscription that failed (a transient broker error) is not cached: the next attempt tries again.</summary>
    public static void ForgetIfFailed(System.Collections.Concurrent.ConcurrentDictionary<string, Task> cache, string key, Task task)
        => task.ContinueWith(
            t => cache.TryRemove(KeyValuePair.Create(key, t)),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
}
