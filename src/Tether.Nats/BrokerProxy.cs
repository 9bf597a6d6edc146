using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using MessagePack;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.Services;
using Tether.Transport;
using Tether.Nats.Internal;

namespace Tether.Nats;

/// <summary>
/// A node's single connection to NATS. Attached to a <see cref="Node"/>, it carries traffic for addresses on other
/// nodes (sends, requests, responses, errors, ends, lease renewals), serves the node's factories to other nodes,
/// and watches peers with heartbeats: a peer silent for <see cref="BrokerOptions.FailureTimeout"/> is declared
/// unreachable, its pending requests fail at once with <see cref="ErrorCodes.NodeUnreachable"/>, and instances it
/// owns here end. Local traffic never reaches the proxy.
/// </summary>
/// <remarks>
/// Subjects: <c>tether.{cluster}.node.{node}</c> (one inbox per node), <c>tether.{cluster}.reply.{node}.{id}</c>
/// (one wildcard reply subscription per node; the correlation id is the last token),
/// <c>tether.{cluster}.svc.{service}</c> (a queue group per factory), <c>tether.{cluster}.hb</c> (heartbeats).
/// </remarks>
public sealed partial class BrokerProxy : RemoteTransport, IAsyncDisposable
{
    private readonly Node _node;
    private readonly TransportHost _host;
    private readonly NatsConnection _nats;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly string _inbox;
    private readonly string _replyPrefix;
    // Striped: requests are added by the callers' threads while answers remove them on the socket reader.
    private readonly PendingTable _pending = new();
    private readonly ConcurrentDictionary<string, Outbox> _nodeOutboxes = new(StringComparer.Ordinal);
    private Outbox? _lastNodeOutbox; // see NodeOutbox
    private readonly ConcurrentDictionary<string, Outbox> _replyOutboxes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Outbox>.AlternateLookup<ReadOnlySpan<char>> _replyOutboxLookup;
    private readonly string _replyHead;
    private readonly ConcurrentDictionary<string, long> _peers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _lost = new(StringComparer.Ordinal);
    private int _lostCount; // the entries of _lost, kept beside it under the peers' lock
    private readonly ConcurrentDictionary<string, Task> _services = new(StringComparer.Ordinal);
    private readonly ServiceRouter _router;
    private readonly NatsSvcContext _svc;
    private readonly List<INatsSvcServer> _svcServers = [];
    private readonly List<INatsSub<byte[]>> _subs = []; // strong references: NATS.Net holds subscriptions weakly
    private readonly List<InlineSub> _inlineSubs = [];
    private readonly List<Task> _loops = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly MessagePack.MessagePackSerializerOptions _wire;
    private readonly PayloadCodecs _codecs;
    private readonly byte[] _nodeNameEncoded; // this node's name as a frame carries it, encoded once
    private readonly FlushGuard _flushGuard = new();
    private ITimer? _heartbeat;

    [ThreadStatic]
    private static string? t_sendingTo; // the node a frame being encoded on this thread goes to (null: a queue group)

    [ThreadStatic]
    private static List<(string ReplyTo, int Hop)>? t_relayed; // other nodes' requesters whose tokens the frame being encoded carries on
    private readonly HotCounters _hot = new();
    private long _badFrames;
    private long _peersLost;
    private long _lastBeat;
    private int _announcePending;
    private int _disposed;

    private BrokerProxy(Node node, BrokerOptions options, NatsConnection nats)
        : base(node)
    {
        _node = node;
        _host = Host;
        Options = options;
        _nats = nats;
        _logger = node.Options.LoggerFactory.CreateLogger("Tether.Nats.BrokerProxy");
        _prefix = $"tether.{options.Cluster}";
        _inbox = $"{_prefix}.node.{node.Name}";
        _replyPrefix = $"{_prefix}.reply.{node.Name}.";
        _replyHead = $"{_prefix}.reply.";
        _replyOutboxLookup = _replyOutboxes.GetAlternateLookup<ReadOnlySpan<char>>();
        _router = new ServiceRouter(options.Exploration, smoothing: 0.3);
        _svc = new NatsSvcContext(nats);
        _wire = WireSerializer.For(this);
        _codecs = new PayloadCodecs(options.Contracts, _wire);
        var nameBuffer = new System.Buffers.ArrayBufferWriter<byte>();
        var nameWriter = new MessagePackWriter(nameBuffer);
        nameWriter.Write(node.Name);
        nameWriter.Flush();
        _nodeNameEncoded = nameBuffer.WrittenSpan.ToArray();
    }

    /// <summary>The reply subject for a reply obligation that leaves this node inside a message (a forwarded reply token).</summary>
    internal string ReplySubjectFor(ReplySink sink)
    {
        if (sink is RemoteReplySink remote)
        {
            if (t_sendingTo is not null)
            {
                // Relayed on (A -> this node -> another): once the message is out, the requester is told who holds its
                // answer now, so it watches that node instead of this one.
                (t_relayed ??= []).Add((remote.ReplyTo, remote.Hops + 1));
            }

            return remote.ReplyTo; // already answered over the wire: pass the requester's subject on
        }

        if (!sink.ExpectsAnswer)
        {
            return _replyPrefix + "0"; // nobody waits: answers to correlation 0 are dropped on arrival
        }

        long correlation = Interlocked.Increment(ref _hot.NextCorrelation);

        // The node the message carrying the token goes to holds the obligation: if it is lost, so is the answer.
        string destination = t_sendingTo is { } node ? $"node {node}" : "a forwarded reply token";
        _pending[correlation] = new PendingRemote(sink, destination, null, default);
        return _replyPrefix + correlation;
    }

    internal bool IsReplySubject(string subject)
        => subject.StartsWith($"{_prefix}.reply.", StringComparison.Ordinal)
            && subject.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>The options the proxy was attached with.</summary>
    public BrokerOptions Options { get; }

    /// <summary>True while the NATS connection is open (it reconnects by itself when not).</summary>
    public bool IsConnected => _nats.ConnectionState == NatsConnectionState.Open;

    /// <summary>The peers heard from within the failure timeout.</summary>
    public IReadOnlyCollection<string> Peers => _peers.Keys.ToArray();

    /// <summary>The moving latency (ms) of each known instance of <paramref name="service"/> on other nodes; -1 for one not measured yet.</summary>
    public IReadOnlyDictionary<Address, double> Latencies(string service) => _router.Latencies(service);

    /// <summary>NATS messages received that carried a batch of frames (for tests).</summary>
    internal long BatchesReceived => Interlocked.Read(ref _hot.BatchesReceived);

    /// <summary>NATS messages published through the outboxes: a lone frame or a whole batch each (for tests).</summary>
    internal long MessagesPublished => Interlocked.Read(ref _hot.Published);

    /// <summary>A snapshot of the proxy's counters.</summary>
    public BrokerStatistics Statistics => new(
        Interlocked.Read(ref _hot.Sent),
        Interlocked.Read(ref _hot.Received),
        Interlocked.Read(ref _badFrames),
        Interlocked.Read(ref _peersLost),
        _pending.Count);

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
        if (RemoteTransport.IsAttachedTo(node))
        {
            throw new InvalidOperationException($"Node {node.Name} already has a broker proxy.");
        }

        var nats = new NatsConnection(NatsOpts.Default with
        {
            Url = options.Url,
            Name = $"tether-{node.Name}",
            AuthOpts = NatsAuthOpts.Default with
            {
                Username = options.User,
                Password = options.Password,
                Token = options.Token,
                CredsFile = options.CredsFile,
                NKeyFile = options.NKeyFile,
            },
            TlsOpts = options.Tls ? NatsTlsOpts.Default with { Mode = TlsMode.Require, CaFile = options.TlsCaFile } : NatsTlsOpts.Default,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(100),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
            MaxReconnectRetry = -1,
            SubPendingChannelCapacity = 65_536,
            LoggerFactory = node.Options.LoggerFactory,
        });
        try
        {
            await nats.ConnectAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), cancellation).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException)
        {
            await nats.DisposeAsync().ConfigureAwait(false);
            throw new TetherException(ErrorCodes.NodeUnreachable, $"Node {node.Name} could not connect to NATS at {options.Url}: {Causes(ex)}", ex);
        }

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

    /// <summary>
    /// The message of an exception and of its inner exceptions: NATS.Net reports "can not start to connect" on top and the
    /// reason (a TLS certificate refused, a connection refused) only inside.
    /// </summary>
    private static string Causes(Exception ex)
    {
        var text = new StringBuilder(ex.Message);
        for (Exception? inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!text.ToString().Contains(inner.Message, StringComparison.Ordinal))
            {
                text.Append(": ").Append(inner.Message);
            }
        }

        return text.ToString();
    }

    private async Task StartAsync(CancellationToken cancellation)
    {
        await SubscribeInlineAsync(_inbox, OnInbox, cancellation).ConfigureAwait(false);
        await SubscribeInlineAsync(_replyPrefix + "*", OnReply, cancellation).ConfigureAwait(false);
        await SubscribeAsync($"{_prefix}.hb", null, OnHeartbeat, cancellation).ConfigureAwait(false);
        await StartDurableTopicsAsync(cancellation).ConfigureAwait(false);
        Attach();
        foreach (string topic in _host.ActiveTopics)
        {
            await SubscribeTopicAsync(topic).ConfigureAwait(false);
        }

        foreach (string service in _host.FactoryNames.Concat(_host.LocalServices().Keys))
        {
            await ServeAsync(service).ConfigureAwait(false);
        }

        // A round trip to the server: every subscription above is in place before anyone is told we are here.
        await _nats.PingAsync(cancellation).ConfigureAwait(false);
        _heartbeat = _host.TimeProvider.CreateTimer(static s => ((BrokerProxy)s!).Beat(), this, TimeSpan.Zero, Options.HeartbeatInterval);
        LogAttached(_logger, _node.Name, Options.Url, Options.Cluster);
    }

    private async Task<INatsSub<byte[]>> SubscribeAsync(string subject, string? queueGroup, Action<Incoming> handle, CancellationToken cancellation)
    {
        INatsSub<byte[]> sub = await _nats.SubscribeCoreAsync<byte[]>(subject, queueGroup, cancellationToken: cancellation).ConfigureAwait(false);
        lock (_subs)
        {
            _subs.Add(sub);
            _loops.Add(Task.Run(() => ReadLoop(sub, handle)));
        }

        return sub;
    }

    /// <summary>A hot subscription (inbox, replies): handled on the socket reader, see <see cref="InlineSub"/>.</summary>
    private async Task SubscribeInlineAsync(string subject, Action<Incoming> handle, CancellationToken cancellation)
    {
        var sub = new InlineSub(_nats, subject, msg => Dispatch(msg, handle), _stopping.Token);
        lock (_subs)
        {
            _inlineSubs.Add(sub);
        }

        await _nats.AddSubAsync(sub, cancellation).ConfigureAwait(false);
    }

    private async Task ReadLoop(INatsSub<byte[]> sub, Action<Incoming> handle)
    {
        try
        {
            await foreach (NatsMsg<byte[]> msg in sub.Msgs.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                Dispatch(Incoming.From(msg), handle);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Counts a received message and hands it (or each frame of a batch) to its handler; never throws.</summary>
    /// <remarks>
    /// Answers to requests are not completed one by one on the socket reader: they are collected while the message is
    /// handled and completed together in one thread-pool work item (<see cref="AnswerBatch"/>), as one run. Handling the
    /// message is not itself a run: a target it delivers to starts at its first message, on another core, while the reader
    /// goes on unpacking (deferring that wake to the end of the batch measured slower on 2 cores: blast 0.72 against 0.91 M
    /// msg/s, medians of 15 iterations in alternating builds).
    /// </remarks>
    private void Dispatch(Incoming incoming, Action<Incoming> handle)
    {
        AnswerBatch? answers = t_answers;
        if (answers is null || answers.Guard != _flushGuard)
        {
            t_answers = answers = new AnswerBatch(_flushGuard); // per thread, and per proxy (a process may host several)
        }

        answers.Collecting = true;
        bool outermost = !t_deliveries.Active; // a nested dispatch (none today) adds to the run it is in
        t_deliveries.Active = true;
        try
        {
            if (Frame.IsBatch(incoming.Data.Span))
            {
                Interlocked.Increment(ref _hot.BatchesReceived);
                Unbatch(incoming, handle);
            }
            else
            {
                HandleOne(incoming, handle);
            }
        }
        finally
        {
            if (outermost)
            {
                FlushDeliveries(incoming);
            }

            answers.Collecting = false;
            if (answers.Count == 1)
            {
                // A lone answer (sequential requests): completed here, its continuation queued on this thread's own
                // queue as for any request; a work item of its own would only add a hop to the global queue.
                answers.CompleteAlone();
            }
            else if (answers.Count > 1)
            {
                t_answers = null; // handed over: the next message gets a collection of its own
                ThreadPool.UnsafeQueueUserWorkItem(answers, preferLocal: false);
            }
        }
    }

    [ThreadStatic]
    private static AnswerBatch? t_answers;

    /// <summary>Posts what the received message left for local targets; never throws, and leaves no run behind.</summary>
    private void FlushDeliveries(Incoming incoming)
    {
        try
        {
            TransportHost.Flush(ref t_deliveries);
        }
#pragma warning disable CA1031 // a failing answer to one delivery must not reach the socket reader
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogDeliveryFailed(_logger, incoming.Subject, ex);
        }
        finally
        {
            t_deliveries = default; // no target or node is kept alive by a reader thread between messages
        }
    }

    /// <summary>Messages for one local target from one received NATS message, posted together (see <see cref="DeliverLocally"/>).</summary>
    [ThreadStatic]
    private static DeliveryRun t_deliveries;

    /// <summary>Counts one frame and handles it; whatever it throws is a bad frame, never the end of the subscription.</summary>
    private void HandleOne(Incoming frame, Action<Incoming> handle)
    {
        Interlocked.Increment(ref _hot.Received);
        try
        {
            handle(frame);
        }
#pragma warning disable CA1031 // one bad frame never stops the subscription or the rest of its batch
        catch (Exception ex)
#pragma warning restore CA1031
        {
            BadFrame(frame, ex.Message);
        }
    }

    /// <summary>
    /// Handles each frame of a batch exactly as if it had come alone, in order. A malformed item ends the batch (the
    /// rest cannot be found): it is counted, and the batch's sender is told when it left a reply subject.
    /// </summary>
    private void Unbatch(Incoming batch, Action<Incoming> handle)
    {
        if (batch.Data.Length > Options.MaxFrameBytes)
        {
            Interlocked.Increment(ref _hot.Received);
            BadFrame(batch, $"the batch has {batch.Data.Length} bytes, more than the {Options.MaxFrameBytes} allowed");
            return;
        }

        var reader = new WireReader(batch.Data.Span);
        int count;
        bool namesReferred;
        try
        {
            count = Frame.DecodeBatchHeader(ref reader, out namesReferred);
        }
        catch (WireException ex)
        {
            Interlocked.Increment(ref _hot.Received);
            BadFrame(batch, ex.Message);
            return;
        }

        bool replies = batch.Subject.StartsWith(_replyPrefix, StringComparison.Ordinal);

        // Requests in a batch name no reply subject each: they are answered to the batch sender's replies, with their
        // correlation (the batch's own reply subject says where those go). Resolved once for the whole batch.
        Outbox? requester = !replies && batch.ReplyTo is { } batchReply ? ReplyOutbox(batchReply, out _) : null;
        BatchNames? names = namesReferred ? new BatchNames() : null; // a version-1 batch has every name in full
        for (int i = 0; i < count; i++)
        {
            Incoming item;
            try
            {
                Frame.DecodeBatchItem(ref reader, batch.Data, out long correlation, out string? replyTo, out ReadOnlyMemory<byte> frame);
                item = new Incoming(batch.Subject, replyTo, frame, Correlation: correlation, Replies: requester, Names: names);
            }
            catch (WireException ex)
            {
                Interlocked.Increment(ref _hot.Received);
                BadFrame(batch, $"frame {i + 1} of {count} in a batch: {ex.Message}");
                return;
            }

            names?.Next();
            HandleOne(item, handle);
        }
    }

    private void OnInbox(Incoming msg)
    {
        if (!TryOpen(msg, out Frame frame, out int payload))
        {
            return;
        }

        switch (frame.Kind)
        {
            case FrameKind.Send or FrameKind.Request or FrameKind.Event:
                DeliverLocally(msg, frame, payload);
                break;
            case FrameKind.End or FrameKind.Renew:
                TransportHost.Flush(ref t_deliveries); // the messages before it in the batch reach the target first
                OnTether(msg, frame);
                break;
            default:
                BadFrame(msg, $"a {frame.Kind} frame does not belong on a node inbox");
                break;
        }
    }

    private void OnTether(Incoming msg, Frame frame)
    {
        switch (frame.Kind)
        {
            case FrameKind.End or FrameKind.Renew when frame.SenderNode is null || frame.SenderId <= 0:
                BadFrame(msg, $"a {frame.Kind} frame must name the target that sends it");
                break;
            case FrameKind.End:
                Address target = new(_node.Name, frame.RecipientId);
                if (frame.Flag != 0)
                {
                    _host.OwnerEnded(frame.Sender, target);
                }
                else
                {
                    _host.End(frame.Sender, target, frame.ErrorText ?? "ended remotely");
                }

                break;
            default:
                _host.Renew(frame.Sender, new Address(_node.Name, frame.RecipientId));
                break;
        }
    }

    private void DeliverLocally(Incoming msg, Frame frame, int payloadAt, string? service = null)
    {
        if (frame.Contract is null || !_codecs.TryGetByName(frame.Contract, out PayloadCodec? codec))
        {
            BadFrame(msg, $"the contract \"{frame.Contract}\" is not registered on node {_node.Name}");
            return;
        }

        object? payload = Frame.ReadPayload(msg.Data, payloadAt, codec);
        if (payload is null || (service is null && frame.RecipientId <= 0))
        {
            BadFrame(msg, payload is null ? "the message is empty" : "the recipient id is not valid");
            return;
        }

        ReplySink? sink = null;
        if (frame.Kind == FrameKind.Request)
        {
            if (msg.ReplyTo is { } replyTo)
            {
                sink = new RemoteReplySink(this, replyTo, frame.Contract, frame.Sender);
            }
            else if (msg.CanAnswer)
            {
                sink = new RemoteReplySink(this, msg.Replies!, msg.Correlation, frame.Contract, frame.Sender);
            }
            else
            {
                BadFrame(msg, "a request without a reply subject");
                return;
            }
        }

        ActivityContext.TryParse(frame.TraceParent, null, out ActivityContext trace);
        MessageKind kind = frame.Kind switch
        {
            FrameKind.Request => MessageKind.Request,
            FrameKind.Event => MessageKind.Event,
            _ => MessageKind.Send,
        };
        if (service is not null)
        {
            TransportHost.Flush(ref t_deliveries);
            _host.DeliverToService(frame.Sender, service, payload, kind, sink, trace, frame.Session);
            return;
        }

        if (t_deliveries.Active)
        {
            // Unpacking a received message: consecutive messages for one target are posted to it together.
            _host.Deliver(ref t_deliveries, frame.Sender, frame.RecipientId, payload, kind, sink, trace, frame.Session);
            return;
        }

        _host.Deliver(frame.Sender, new Address(_node.Name, frame.RecipientId), payload, kind, sink, trace, frame.Session);
    }

    private void OnReply(Incoming msg)
    {
        long correlation = msg.Correlation;
        if (correlation == 0 && !long.TryParse(msg.Subject.AsSpan(_replyPrefix.Length), out correlation))
        {
            return; // not ours
        }

        if (correlation < 0)
        {
            OnBatchAnswer(-correlation, msg);
            return;
        }

        Frame frame = default;
        int payloadAt = 0;
        bool opened = !msg.HasNoResponders && TryOpen(msg, out frame, out payloadAt);
        if (opened && frame.Kind == FrameKind.Accepted)
        {
            OnAccepted(correlation, frame.SenderNode, frame.RecipientId); // not the answer: the request stays pending
            return;
        }

        if (!_pending.TryRemove(correlation, out PendingRemote? pending))
        {
            return; // late (already timed out): nobody waits for it
        }

        ReplySink sink = pending.Sink;
        if (msg.HasNoResponders)
        {
            sink.TryFail(pending.Service is { } service && pending.Instance.IsNone
                ? new TetherException(ErrorCodes.NoSuchService, $"{sink.Describe()}: no node serves \"{service}\" (no responders).")
                : new TetherException(ErrorCodes.NodeUnreachable, $"{sink.Describe()}: nobody on the broker listens for {pending.Destination} (no responders)."));
            return;
        }

        if (!opened)
        {
            sink.TryFail(new TetherException(ErrorCodes.BadRequest, $"{sink.Describe()}: the reply was malformed."));
            return;
        }

        if (frame.Kind == FrameKind.Error)
        {
            if (pending.Service is { } failing && !pending.Instance.IsNone)
            {
                _router.Record(failing, pending.Instance, Stopwatch.GetElapsedTime(pending.Start).TotalMilliseconds * ErrorPenalty); // failing fast is not being fast
            }

            sink.TryFail(new TetherException(frame.ErrorCode ?? ErrorCodes.HandlerFailed, frame.ErrorText ?? "remote error"));
            return;
        }

        object? value = null;
        if (frame.Contract is not null)
        {
            if (!_codecs.TryGetByName(frame.Contract, out PayloadCodec? codec))
            {
                sink.TryFail(new TetherException(ErrorCodes.BadRequest, $"{sink.Describe()}: the answer's contract \"{frame.Contract}\" is not registered on node {_node.Name}."));
                return;
            }

            try
            {
                value = Frame.ReadPayload(msg.Data, payloadAt, codec);
            }
            catch (WireException ex)
            {
                sink.TryFail(new TetherException(ErrorCodes.BadRequest, $"{sink.Describe()}: the answer could not be read: {ex.Message}."));
                return;
            }
        }

        if (pending.Service is { } routed && !pending.Instance.IsNone)
        {
            _router.Record(routed, pending.Instance, Stopwatch.GetElapsedTime(pending.Start).TotalMilliseconds);
        }

        if (!pending.IsCreate && t_answers is { Collecting: true } answers)
        {
            answers.Add(sink, value); // completed with the others of this message, see Dispatch
            return;
        }

        if (!sink.TryComplete(value) && pending.IsCreate && value is Address orphan)
        {
            // The creator gave up (deadline) before the instance arrived: nobody owns it, so it must not live on.
            End(default, orphan, "its creator stopped waiting", ownerEnded: false);
        }
    }

    /// <summary>Checks the frame's size and reads its header; <paramref name="payloadAt"/> is where its payload starts in <c>msg.Data</c>.</summary>
    private bool TryOpen(Incoming msg, out Frame frame, out int payloadAt)
    {
        frame = default;
        payloadAt = 0;
        ReadOnlyMemory<byte> data = msg.Data;
        if (data.Length == 0)
        {
            BadFrame(msg, "the frame is empty");
            return false;
        }

        if (data.Length > Options.MaxFrameBytes)
        {
            BadFrame(msg, $"the frame has {data.Length} bytes, more than the {Options.MaxFrameBytes} allowed");
            return false;
        }

        try
        {
            payloadAt = Frame.DecodeHeader(data.Span, out frame, msg.Names);
            return true;
        }
        catch (WireException ex)
        {
            BadFrame(msg, ex.Message);
            return false;
        }
    }

    private void BadFrame(Incoming msg, string why)
    {
        long count = Interlocked.Increment(ref _badFrames);
        if ((count & (count - 1)) == 0)
        {
            LogBadFrame(_logger, msg.Subject, why, count);
        }

        // Answer the sender when it left a way to answer (and is not itself one of our reply subjects).
        if (msg.CanAnswer && !msg.Subject.StartsWith(_replyPrefix, StringComparison.Ordinal))
        {
            string text = $"Node {_node.Name} rejected a frame on {msg.Subject}: {why}.";
            if (msg.ReplyTo is { } replyTo)
            {
                SendError(replyTo, ErrorCodes.BadRequest, text);
            }
            else
            {
                SendError(msg.Replies!, msg.Correlation, null, ErrorCodes.BadRequest, text);
            }
        }
    }

    private void Publish(string subject, byte[] frame, string? replyTo, long correlation)
    {
        Interlocked.Increment(ref _hot.Sent);
        ValueTask publishing = _nats.PublishAsync(subject, frame, replyTo: replyTo);
        if (!publishing.IsCompletedSuccessfully)
        {
            _ = Observe(publishing, correlation);
        }

        async Task Observe(ValueTask publishing, long correlation)
        {
            try
            {
                await publishing.ConfigureAwait(false);
            }
#pragma warning disable CA1031
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (correlation != 0 && _pending.TryRemove(correlation, out PendingRemote? pending))
                {
                    pending.Sink.TryFail(new TetherException(ErrorCodes.NodeUnreachable, $"{pending.Sink.Describe()}: the broker connection failed: {ex.Message}", ex));
                }
            }
        }
    }

    /// <summary>Detaches from the node (remote traffic then fails as for an embedded node), says goodbye to peers and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Detach();

        if (_heartbeat is not null)
        {
            await _heartbeat.DisposeAsync().ConfigureAwait(false); // no heartbeat may follow the goodbye
        }

        try
        {
            Frame bye = new() { Kind = FrameKind.Bye, SenderNode = _node.Name };
            await _nats.PublishAsync($"{_prefix}.hb", bye.Encode(null, null)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or ObjectDisposedException)
        {
            // Peers will find out by silence.
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach ((long correlation, PendingRemote pending) in _pending)
        {
            pending.Sink.TryFail(new TetherException(ErrorCodes.NodeUnreachable, $"{pending.Sink.Describe()}: the broker proxy of node {_node.Name} was closed."));
            _pending.TryRemove(correlation, out _);
        }

        foreach (INatsSvcServer server in _svcServers.ToArray())
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }

        await _nats.DisposeAsync().ConfigureAwait(false);
        _flushGuard.Dispose();
        Task[] loops;
        lock (_subs)
        {
            loops = [.. _loops];
        }

        // The loops end on cancellation; one that failed was already logged.
        await Task.WhenAll(loops.Select(l => l.ContinueWith(static _ => { }, TaskScheduler.Default))).ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>Where each pending remote request is watched for ("node X", "service X", ...); for tests.</summary>
    internal IReadOnlyCollection<string> PendingDestinations() => [.. _pending.Values.Select(p => p.Destination)];

    /// <summary>Each pending remote request's correlation and where it is watched for; for tests.</summary>
    internal IReadOnlyDictionary<long, string> PendingRequests() => _pending.ToDictionary(e => e.Key, e => e.Value.Destination);

    /// <summary>The subject prefix of this node's answers: the prefix plus a correlation is a request's reply subject; for tests.</summary>
    internal string ReplyPrefix => _replyPrefix;

    /// <summary>Drops the connection without a goodbye, as a crashed process would (for failure tests).</summary>
    internal async Task VanishAsync()
    {
        Interlocked.Exchange(ref _disposed, 1); // a later DisposeAsync has nothing left to do
        _heartbeat?.Dispose();
        Detach();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _nats.DisposeAsync().ConfigureAwait(false);
        _flushGuard.Dispose();
    }

    [LoggerMessage(1, LogLevel.Information, "Node {Node} attached to NATS at {Url}, cluster {Cluster}")]
    private static partial void LogAttached(ILogger logger, string node, string url, string cluster);

    [LoggerMessage(2, LogLevel.Warning, "Rejected a frame on {Subject}: {Why} (bad frames so far: {Count})")]
    private static partial void LogBadFrame(ILogger logger, string subject, string why, long count);

    [LoggerMessage(3, LogLevel.Warning, "Node {Peer} is unreachable: {Failed} pending requests failed, {Ended} instances it owned here end")]
    private static partial void LogPeerLost(ILogger logger, string peer, int failed, int ended);

    [LoggerMessage(6, LogLevel.Error, "Delivering the frames of a message on {Subject} to local targets failed; each was posted or answered")]
    private static partial void LogDeliveryFailed(ILogger logger, string subject, Exception error);

    [LoggerMessage(4, LogLevel.Information, "Node {Peer} joined")]
    private static partial void LogPeerJoined(ILogger logger, string peer);
}
