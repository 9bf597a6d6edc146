using System.Diagnostics;
using MessagePack;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Tether.Nats.Internal;
using Tether.Transport;

namespace Tether.Nats;

/// <summary>
/// A node's single connection to NATS. Attached to a <see cref="Node"/>, it carries traffic for addresses on other
/// nodes (sends, requests, responses, errors, ends, lease renewals, watches), serves the node's factories to other nodes,
/// and watches peers with heartbeats: a peer silent for <see cref="BrokerOptions.FailureTimeout"/> is declared
/// unreachable, its pending requests fail at once with <see cref="ErrorCodes.NodeUnreachable"/>, and instances it
/// owns here end. Local traffic never reaches the proxy.
/// </summary>
/// <remarks>
/// <para>
/// Subjects: <c>tether.{cluster}.node.{node}</c> (one inbox per node), <c>tether.{cluster}.reply.{node}.{id}</c>
/// (one wildcard reply subscription per node; the correlation id is the last token),
/// <c>tether.{cluster}.svc.{service}</c> (a queue group per factory), <c>tether.{cluster}.hb</c> (heartbeats, on a
/// second small connection whose thread and socket never wait for the thread pool; a goodbye goes through the main one).
/// </para>
/// <para>
/// A facade over parts with one job each, each in its own folder of <c>Internal/</c> (and the wire format in
/// <c>Wire/</c>): the connection (<see cref="NatsLink"/>), outbound batching (<see cref="Internal.Outboxes"/>), messages
/// out (<see cref="Internal.Outgoing"/>), inbound dispatch (<see cref="InboundDispatch"/>), requests in flight and
/// answers (<see cref="Internal.Replies"/>), services and routing (<see cref="NatsServices"/>), remote factories
/// (<see cref="RemoteFactories"/>), heartbeats and failure detection (<see cref="Internal.Heartbeats"/>), flow control
/// (<see cref="FlowControl"/>), topics (<see cref="NatsTopics"/>), watches across nodes (<see cref="NatsWatches"/>).
/// </para>
/// </remarks>
public sealed partial class BrokerProxy : RemoteTransport, IAsyncDisposable
{
    private readonly Node _node;
    private int _disposed;

    private BrokerProxy(Node node, BrokerOptions options, NatsConnection nats)
        : base(node)
    {
        _node = node;
        Options = options;
        NodeHost = Host;
        NodeName = node.Name;
        Logger = node.Options.LoggerFactory.CreateLogger("Tether.Nats.BrokerProxy");
        Codecs = new PayloadCodecs(options.Contracts, WireSerializer.For(this));
        var nameBuffer = new System.Buffers.ArrayBufferWriter<byte>();
        var nameWriter = new MessagePackWriter(nameBuffer);
        nameWriter.Write(node.Name);
        nameWriter.Flush();
        NodeNameEncoded = nameBuffer.WrittenSpan.ToArray();
        Router = new ServiceRouter(options.Exploration, smoothing: 0.3);
        // In this order: a part may keep a reference to one made before it (the hot paths read them as fields).
        Link = new NatsLink(this, nats, options.Cluster, node.Name);
        Outboxes = new Outboxes(this);
        Replies = new Replies(this);
        Heartbeats = new Heartbeats(this);
        Flow = new FlowControl(this);
        Connection = new ConnectionWatch(this);
        Inbound = new InboundDispatch(this);
        Outgoing = new Outgoing(this);
        Services = new NatsServices(this, nats);
        Factories = new RemoteFactories(this);
        Topics = new NatsTopics(this);
        Watches = new NatsWatches(this);
    }

    /// <summary>The options the proxy was attached with.</summary>
    public BrokerOptions Options { get; }

    /// <summary>True while the NATS connection is open (it reconnects by itself when not).</summary>
    public bool IsConnected => Link.IsConnected;

    /// <summary>The peers heard from within the failure timeout.</summary>
    public IReadOnlyCollection<string> Peers => Heartbeats.Peers;

    /// <summary>A snapshot of the proxy's counters.</summary>
    public BrokerStatistics Statistics => new(
        Interlocked.Read(ref Hot.Sent),
        Interlocked.Read(ref Hot.Received),
        Inbound.BadFrames,
        Heartbeats.PeersLost,
        Replies.Pending.Count,
        Heartbeats.PeersStopped,
        Flow.SendsDropped,
        Flow.CreditWaits,
        Flow.DroppedForPeers,
        Topics.DurableAcknowledged,
        Topics.DurableFailed);

    internal string NodeName { get; }

    internal TransportHost NodeHost { get; }

    internal ILogger Logger { get; }

    internal PayloadCodecs Codecs { get; }

    /// <summary>This node's name as a frame carries it, encoded once.</summary>
    internal byte[] NodeNameEncoded { get; }

    internal HotCounters Hot { get; } = new();

    internal FlushGuard FlushGuard { get; } = new();

    internal ServiceRouter Router { get; }

    internal NatsLink Link { get; }

    internal Outboxes Outboxes { get; }

    internal Outgoing Outgoing { get; }

    internal InboundDispatch Inbound { get; }

    internal Replies Replies { get; }

    internal NatsServices Services { get; }

    internal RemoteFactories Factories { get; }

    internal Heartbeats Heartbeats { get; }

    internal FlowControl Flow { get; }

    internal ConnectionWatch Connection { get; }

    internal NatsTopics Topics { get; }

    internal NatsWatches Watches { get; }

    /// <summary>NATS messages received that carried a batch of frames (for tests).</summary>
    internal long BatchesReceived => Interlocked.Read(ref Hot.BatchesReceived);

    /// <summary>NATS messages published through the outboxes: a lone frame or a whole batch each (for tests).</summary>
    internal long MessagesPublished => Interlocked.Read(ref Hot.Published);

    /// <summary>The subject prefix of this node's answers: the prefix plus a correlation is a request's reply subject; for tests.</summary>
    internal string ReplyPrefix => Link.ReplyPrefix;

    /// <summary>
    /// Connects to NATS, subscribes the node's inbox, replies, heartbeats and factories, and attaches to the node.
    /// </summary>
    /// <exception cref="ArgumentException">An option is not valid; the message names it.</exception>
    /// <exception cref="TetherException">Code <see cref="ErrorCodes.NodeUnreachable"/>: the NATS server could not be reached.</exception>
    public static async Task<BrokerProxy> AttachAsync(Node node, BrokerOptions options, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(node.Name);
        if (IsAttachedTo(node))
        {
            throw new InvalidOperationException($"Node {node.Name} already has a broker proxy.");
        }

        NatsConnection nats = await NatsLink.ConnectAsync(node, options, cancellation).ConfigureAwait(false);
        var proxy = new BrokerProxy(node, options, nats);
        try
        {
            await proxy.StartAsync(cancellation).ConfigureAwait(false);
        }
        catch
        {
            await proxy.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return proxy;
    }

    /// <summary>The moving latency (ms) of each known instance of <paramref name="service"/> on other nodes; -1 for one not measured yet.</summary>
    public IReadOnlyDictionary<Address, double> Latencies(string service) => Router.Latencies(service);

    /// <summary>Completes when every service and factory of this node is served on the broker (their subscriptions are in place).</summary>
    public Task WhenServingAsync() => Services.WhenServingAsync();

    /// <inheritdoc/>
    protected override void Deliver(Address sender, Address to, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session)
        => Outgoing.Deliver(sender, to, message, kind, reply, trace, session);

    /// <inheritdoc/>
    protected override void DeliverToService(Address sender, string service, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session)
        => Outgoing.DeliverToService(sender, service, message, kind, reply, trace, session);

    /// <inheritdoc/>
    protected override ValueTask<Address> Create(Address owner, string service, object? argument, TetherPolicy tether, TimeSpan timeout)
        => Factories.Create(owner, service, argument, tether, timeout);

    /// <inheritdoc/>
    protected override void End(Address requestedBy, Address target, string reason, bool ownerEnded)
        => Outgoing.End(requestedBy, target, reason, ownerEnded);

    /// <inheritdoc/>
    protected override void Watch(Address target) => Watches.Watch(target);

    /// <inheritdoc/>
    protected override void Unwatch(Address target) => Watches.Unwatch(target);

    /// <inheritdoc/>
    protected override void ReportEnded(string watcherNode, Address target, string reason) => Watches.ReportEnded(watcherNode, target, reason);

    /// <inheritdoc/>
    protected override void Renew(Address requestedBy, Address instance) => Outgoing.Renew(requestedBy, instance);

    /// <inheritdoc/>
    protected override void FactoryRegistered(string service) => _ = Services.ServeAsync(service);

    /// <inheritdoc/>
    protected override void ServicesChanged() => Services.ServicesChanged();

    /// <inheritdoc/>
    protected override void TopicSubscribed(string topic, Address subscriber, bool first) => Topics.TopicSubscribed(topic, subscriber, first);

    /// <inheritdoc/>
    protected override void Publish(Address sender, string topic, object @event, ActivityContext trace) => Topics.PublishEvent(sender, topic, @event, trace);

    /// <summary>
    /// The first local id of this incarnation: milliseconds since 2025-01-01 (UTC) times 65,536.
    /// </summary>
    /// <remarks>
    /// An address must never reach a target of a later incarnation of its node (a process killed and started again
    /// under the same name, whose local ids would otherwise start again at 1). Rather than a new incarnation field in
    /// every frame (or one learned from heartbeats and checked per frame), each incarnation's ids start at a base that
    /// grows with the clock, so the address stays what it was, (node, id), and the wire keeps one integer per id: the
    /// cost is that an id is a 9-byte MessagePack integer instead of 1 to 3 bytes, and no field is added. A restarted
    /// process's base is above every id of its predecessor unless that one gave out more than 65,536 ids per
    /// millisecond it lived (or the clock went back that far). The value stays below 2^53, so ids survive JSON and
    /// JavaScript numbers (the browser skin).
    /// </remarks>
    internal static long IncarnationBase(TimeProvider time)
        => Math.Max(1, (time.GetUtcNow() - new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero)).Ticks / TimeSpan.TicksPerMillisecond) << 16;

    private async Task StartAsync(CancellationToken cancellation)
    {
        // Targets spawned from now on get ids of this incarnation (tether node attaches before its modules start).
        NodeHost.StartLocalIdsAt(IncarnationBase(NodeHost.TimeProvider));
        await Link.SubscribeInlineAsync(Link.Inbox, Inbound.OnInbox, cancellation).ConfigureAwait(false);
        await Link.SubscribeInlineAsync(Link.ReplyPrefix + "*", Replies.OnReply, cancellation).ConfigureAwait(false);
        await Flow.StartAsync(cancellation).ConfigureAwait(false);
        Connection.Start();
        await Topics.StartDurableTopicsAsync(cancellation).ConfigureAwait(false);
        Attach();
        foreach (string topic in NodeHost.ActiveTopics)
        {
            await Topics.SubscribeTopicAsync(topic).ConfigureAwait(false);
        }

        foreach (string service in NodeHost.FactoryNames.Concat(NodeHost.LocalServices().Keys))
        {
            await Services.ServeAsync(service).ConfigureAwait(false);
        }

        // A round trip to the server: every subscription above is in place before anyone is told we are here.
        await Link.Nats.PingAsync(cancellation).ConfigureAwait(false);
        await Task.Run(Heartbeats.Start, cancellation).ConfigureAwait(false); // its own connection opens (blocking), then its thread starts
        LogAttached(Logger, _node.Name, Options.Url, Options.Cluster);
    }

    /// <summary>Detaches from the node (remote traffic then fails as for an embedded node), says goodbye to peers and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Detach();

        // A clean stop, in this order: the service queue groups leave (no new work reaches this node through them), what
        // this node still owes its peers (answers, errors, Accepted notices) goes out, and only then the goodbye, so a
        // peer fails with node-stopped only what this node never answered (see Heartbeats.StopAsync).
        await Services.StopAsync().ConfigureAwait(false);
        await Topics.DrainDurableAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        await Heartbeats.StopAsync(goodbye: true).ConfigureAwait(false);
        await GoodbyeSentAsync().ConfigureAwait(false);
        await Link.Stopping.CancelAsync().ConfigureAwait(false);
        Replies.FailAll($"the broker proxy of node {_node.Name} was closed.");
        try
        {
            await Link.Nats.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException or TimeoutException)
        {
            // NATS.Net unsubscribes in order before it closes, behind whatever its writer still holds: after a storm to a
            // slow peer that can take longer than its command timeout. The connection is closed all the same, and a
            // dispose must not throw (an `await using` would replace the caller's own exception with this one).
            LogCloseIncomplete(Logger, _node.Name, ex.Message);
        }

        FlushGuard.Dispose();
        Flow.Dispose();
        await Link.LoopsEndedAsync().ConfigureAwait(false);
        Link.Stopping.Dispose();
    }

    /// <summary>
    /// A round trip to the server after the goodbye: closing the connection at once may drop what is still buffered (the
    /// goodbye, and the last frames before it), and peers would find out by silence, with "unreachable" where "stopped" is true.
    /// </summary>
    private async Task GoodbyeSentAsync()
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await Link.Nats.PingAsync(bound.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or ObjectDisposedException or OperationCanceledException or TimeoutException)
        {
            // Not connected, or slow: the peers will find out by silence.
        }
    }

    /// <summary>Where each pending remote request is watched for ("node X", "service X", ...); for tests.</summary>
    internal IReadOnlyCollection<string> PendingDestinations() => [.. Replies.Pending.Values.Select(p => p.Destination)];

    /// <summary>Each pending remote request's correlation and where it is watched for; for tests.</summary>
    internal IReadOnlyDictionary<long, string> PendingRequests() => Replies.Pending.ToDictionary(e => e.Key, e => e.Value.Destination);

    /// <summary>Drops the connection without a goodbye, as a crashed process would (for failure tests).</summary>
    internal async Task VanishAsync()
    {
        Interlocked.Exchange(ref _disposed, 1); // a later DisposeAsync has nothing left to do
        await Heartbeats.StopAsync(goodbye: false).ConfigureAwait(false);
        Detach();
        await Link.Stopping.CancelAsync().ConfigureAwait(false);
        await Link.Nats.DisposeAsync().ConfigureAwait(false);
        FlushGuard.Dispose();
        Flow.Dispose();
    }

    /// <summary>The reply subject for a reply obligation that leaves this node inside a message (a forwarded reply token).</summary>
    internal string ReplySubjectFor(ReplySink sink) => Outgoing.ReplySubjectFor(sink);

    internal bool IsReplySubject(string subject) => Replies.IsReplySubject(subject);

    internal void SendResponse(Outbox? outbox, long correlation, string? replyTo, object? value) => Replies.SendResponse(outbox, correlation, replyTo, value);

    internal void SendResponse(string replyTo, object? value) => Replies.SendResponse(replyTo, value);

    internal void SendError(Outbox? outbox, long correlation, string? replyTo, string code, string text) => Replies.SendError(outbox, correlation, replyTo, code, text);

    internal void SendError(string replyTo, string code, string text) => Replies.SendError(replyTo, code, text);

    [LoggerMessage(80, LogLevel.Information, "Node {Node} closed its NATS connection without a clean unsubscribe ({Reason}); it is closed all the same")]
    private static partial void LogCloseIncomplete(ILogger logger, string node, string reason);

    [LoggerMessage(1, LogLevel.Information, "Node {Node} attached to NATS at {Url}, cluster {Cluster}")]
    private static partial void LogAttached(ILogger logger, string node, string url, string cluster);
}
