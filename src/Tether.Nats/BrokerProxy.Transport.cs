using System.Diagnostics;
using MessagePack;
using NATS.Client.Core;
using NATS.Client.Services;
using Tether.Transport;
using Tether.Nats.Internal;

namespace Tether.Nats;

public sealed partial class BrokerProxy
{
    /// <inheritdoc/>
    protected override void Deliver(Address sender, Address to, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session)
    {
        if (IsLost(to.Node))
        {
            reply?.TryFail(new TetherException(ErrorCodes.NodeUnreachable, $"{message.GetType().Name} could not be delivered to {to}: node {to.Node} is unreachable."));
            return;
        }

        Outbox outbox = NodeOutbox(to.Node);
        SendMessage(sender, outbox, outbox.BatchSubject, to.Id, message, kind, reply, trace, session, outbox.Destination, null, default, to.Node);
    }

    /// <inheritdoc/>
    protected override void DeliverToService(Address sender, string service, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session)
    {
        if (_router.Choose(service) is { } instance && !IsLost(instance.Node))
        {
            Outbox outbox = NodeOutbox(instance.Node);
            SendMessage(sender, outbox, outbox.BatchSubject, instance.Id, message, kind, reply, trace, session, outbox.Destination, service, instance, instance.Node);
            return;
        }

        if (!BrokerOptions.IsToken(service))
        {
            reply?.TryFail(new TetherException(ErrorCodes.BadRequest, $"The service name \"{service}\" cannot be used over NATS: use letters, digits, '-' and '_' only."));
            return;
        }

        // No instance known: any node serving it takes it through the service's queue group (one frame per NATS
        // message: the server's "no responders" must reach this very request).
        SendMessage(sender, null, $"{_prefix}.svc.{service}", 0, message, kind, reply, trace, session, $"service {service}", service, default, null);
    }

    /// <summary>The outbox of a peer's inbox, made on first use.</summary>
    /// <remarks>
    /// The last one found answers first, by reference: most frames go where the one before went, and a node name that
    /// came from the wire is interned, so this spares a dictionary lookup per frame. It is written only on a change (a
    /// line every sender wrote would bounce between cores).
    /// </remarks>
    private Outbox NodeOutbox(string node)
    {
        Outbox? last = Volatile.Read(ref _lastNodeOutbox);
        if (last is not null && ReferenceEquals(last.Node, node))
        {
            return last;
        }

        Outbox outbox = _nodeOutboxes.TryGetValue(node, out Outbox? found) ? found : AddNodeOutbox(node);
        if (outbox != last)
        {
            Volatile.Write(ref _lastNodeOutbox, outbox);
        }

        return outbox;
    }

    /// <summary>The first frame for a peer (apart from <see cref="NodeOutbox"/>: its closure is not allocated on every call).</summary>
    private Outbox AddNodeOutbox(string node)
    {
        string subject = $"{_prefix}.node.{node}";
        return _nodeOutboxes.GetOrAdd(node, _ => new Outbox(subject, $"node {node}", PublishSegment, SegmentFailed, Options.MaxFrameBytes, _flushGuard) { Node = node });
    }

    /// <summary>
    /// The outbox of a peer's replies when <paramref name="replyTo"/> is a Tether reply subject
    /// (<c>tether.{cluster}.reply.{node}.{correlation}</c>); null for any other subject (a foreign client's inbox).
    /// </summary>
    private Outbox? ReplyOutbox(string replyTo, out long correlation)
    {
        correlation = 0;
        string head = _replyHead; // "tether.{cluster}.reply."
        int dot = replyTo.LastIndexOf('.');
        if (dot <= head.Length || !replyTo.StartsWith(head, StringComparison.Ordinal)
            || !long.TryParse(replyTo.AsSpan(dot + 1), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out correlation)
            || correlation == 0)
        {
            return null;
        }

        ReadOnlySpan<char> prefix = replyTo.AsSpan(0, dot);
        if (_replyOutboxLookup.TryGetValue(prefix, out Outbox? outbox))
        {
            return outbox;
        }

        if (!BrokerOptions.IsToken(replyTo[head.Length..dot]))
        {
            return null;
        }

        string key = prefix.ToString();
        return _replyOutboxes.GetOrAdd(key, k => new Outbox(k + ".batch", $"replies to {k}", PublishSegment, SegmentFailed, Options.MaxFrameBytes, _flushGuard, replyBase: k + "."));
    }

    /// <summary>Publishes a segment of an outbox: a lone frame as itself, several as one batch frame.</summary>
    private ValueTask PublishSegment(Outbox outbox, Outbox.Segment segment)
    {
        List<Outbox.Item> items = segment.Items;
        Interlocked.Add(ref _hot.Sent, items.Count);
        Interlocked.Increment(ref _hot.Published);
        if (items.Count == 1)
        {
            // Alone it needs the subjects' text: a reply's subject and a request's reply subject are made only now.
            Outbox.Item item = items[0];
            string subject = item.Subject ?? outbox.ReplyBase + item.Correlation.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string? replyTo = item.ReplyTo ?? (item.Pending is null ? null : _replyPrefix + item.Correlation.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return _nats.PublishAsync(subject, segment.FrameOf(item), replyTo: replyTo);
        }

        string? batchReplyTo = null;
        if (segment.HasRequests)
        {
            // The batch's own reply subject: "no responders" (or a rejection of the whole batch) fails its requests.
            long batch = Interlocked.Increment(ref _hot.NextBatch);
            foreach (Outbox.Item item in items)
            {
                if (item.Pending is { } pending)
                {
                    pending.Batch = batch;
                }
            }

            batchReplyTo = _replyPrefix + (-batch).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return _nats.PublishAsync(outbox.BatchSubject, segment.AsBatch(), replyTo: batchReplyTo);
    }

    private void SegmentFailed(Outbox outbox, Outbox.Segment segment, Exception ex)
    {
        foreach (Outbox.Item item in segment.Items)
        {
            if (item.Pending is { } pending && _pending.TryRemove(item.Correlation, out _))
            {
                pending.Sink.TryFail(new TetherException(ErrorCodes.NodeUnreachable, $"{pending.Sink.Describe()}: the broker connection failed: {ex.Message}", ex));
            }
        }
    }

    /// <summary>An answer to a whole batch of requests: the server's "no responders", or the receiver's rejection.</summary>
    private void OnBatchAnswer(long batch, Incoming msg)
    {
        TetherException? error = null;
        if (msg.HasNoResponders)
        {
            error = null; // per request below: its destination is in the text
        }
        else if (TryOpen(msg, out Frame frame, out _) && frame.Kind == FrameKind.Error)
        {
            error = new TetherException(frame.ErrorCode ?? ErrorCodes.BadRequest, frame.ErrorText ?? "the batch was rejected");
        }
        else
        {
            return;
        }

        foreach ((long correlation, PendingRemote pending) in _pending)
        {
            if (pending.Batch == batch && _pending.TryRemove(correlation, out _))
            {
                pending.Sink.TryFail(error ?? new TetherException(ErrorCodes.NodeUnreachable, $"{pending.Sink.Describe()}: nobody on the broker listens for {pending.Destination} (no responders)."));
            }
        }
    }

    private void SendMessage(Address sender, Outbox? outbox, string subject, long recipient, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session, string destination, string? service, Address instance, string? node)
    {
        string? outer = t_sendingTo;
        int relayedBefore = t_relayed?.Count ?? 0;
        bool left = false;
        t_sendingTo = node; // read by ReplySubjectFor when a reply token in the payload is encoded
        try
        {
            left = Encode(sender, outbox, subject, recipient, message, kind, reply, trace, session, destination, service, instance, node);
        }
        finally
        {
            t_sendingTo = outer;
            if (t_relayed is { } relayed && relayed.Count > relayedBefore)
            {
                (string ReplyTo, int Hop)[] requesters = left ? relayed.GetRange(relayedBefore, relayed.Count - relayedBefore).ToArray() : [];
                relayed.RemoveRange(relayedBefore, relayed.Count - relayedBefore); // also when the frame was refused or failed
                foreach ((string replyTo, int hop) in requesters)
                {
                    SendAccepted(replyTo, node!, hop); // the requester of a relayed token watches the node it went to
                }
            }
        }
    }

    /// <summary>Encodes and sends (or queues) one frame; false when it did not leave (refused, or its node was lost meanwhile).</summary>
    private bool Encode(Address sender, Outbox? outbox, string subject, long recipient, object message, MessageKind kind, ReplySink? reply, ActivityContext trace, string? session, string destination, string? service, Address instance, string? node)
    {
        Type type = message.GetType();
        if (!_codecs.TryGetByType(type, out PayloadCodec? codec))
        {
            Refuse(reply, $"{type.Name} is not a registered contract (BrokerOptions.Contracts.Register<{type.Name}>(name)), so it cannot leave node {_node.Name}");
            return false;
        }

        if (session is not null && session.Length > Frame.MaxSessionBytes / 3 && System.Text.Encoding.UTF8.GetByteCount(session) > Frame.MaxSessionBytes)
        {
            Refuse(reply, $"the session token of {type.Name} has {System.Text.Encoding.UTF8.GetByteCount(session)} bytes, more than the {Frame.MaxSessionBytes} a frame carries");
            return false;
        }

        Frame frame = new()
        {
            Kind = kind switch
            {
                MessageKind.Request => FrameKind.Request,
                MessageKind.Event => FrameKind.Event,
                _ => FrameKind.Send,
            },
            SenderNode = sender.Node,
            SenderNodeEncoded = ReferenceEquals(sender.Node, _node.Name) ? _nodeNameEncoded : null,
            SenderId = sender.Id,
            RecipientId = recipient,
            Contract = codec.Contract,
            ContractEncoded = codec.ContractEncoded,
            TraceParent = trace == default ? null : FormatTrace(trace),
            Session = session,
        };

        byte[]? bytes = null;
        if (outbox is null)
        {
            bytes = frame.Encode(codec, message);
            if (bytes.Length > Options.MaxFrameBytes)
            {
                Refuse(reply, $"{type.Name} takes {bytes.Length} bytes on the wire, more than BrokerOptions.MaxFrameBytes ({Options.MaxFrameBytes})");
                return false;
            }
        }

        long correlation = 0;
        string? replyTo = null;
        PendingRemote? pending = null;
        if (reply is not null)
        {
            correlation = Interlocked.Increment(ref _hot.NextCorrelation);
            _pending[correlation] = pending = new PendingRemote(reply, destination, service, instance);

            // Through an outbox the frame carries no reply subject: in a batch the correlation says it, and a lone
            // frame's reply subject is made when it is published.
            replyTo = outbox is null ? _replyPrefix + correlation.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
            if (node is not null && IsLost(node) && _pending.TryRemove(correlation, out _))
            {
                // Lost between the check and the registration: fail now rather than at the deadline.
                reply.TryFail(new TetherException(ErrorCodes.NodeUnreachable, $"{reply.Describe()}: node {node} is unreachable."));
                return false;
            }
        }

        if (bytes is not null)
        {
            Publish(subject, bytes, replyTo, correlation);
            return true;
        }

        int refused;
        try
        {
            refused = outbox!.Append(frame, codec, message, subject, replyTo, correlation, pending);
        }
        catch
        {
            _pending.TryRemove(correlation, out _);
            throw;
        }

        if (refused > 0)
        {
            _pending.TryRemove(correlation, out _);
            Refuse(reply, $"{type.Name} takes {refused} bytes on the wire, more than BrokerOptions.MaxFrameBytes ({Options.MaxFrameBytes})");
            return false;
        }

        return true;
    }

    private static void Refuse(ReplySink? reply, string why)
    {
        if (reply is null)
        {
            throw new TetherException(ErrorCodes.BadRequest, why + ".");
        }

        reply.TryFail(new TetherException(ErrorCodes.BadRequest, why + "."));
    }

    /// <inheritdoc/>
    protected override ValueTask<Address> Create(Address owner, string service, object? argument, TetherPolicy tether, TimeSpan timeout)
    {
        if (!BrokerOptions.IsToken(service))
        {
            return ValueTask.FromException<Address>(new TetherException(ErrorCodes.BadRequest, $"The service name \"{service}\" cannot be used over NATS: use letters, digits, '-' and '_' only."));
        }

        PayloadCodec? argumentCodec = null;
        if (argument is not null && !_codecs.TryGetByType(argument.GetType(), out argumentCodec))
        {
            return ValueTask.FromException<Address>(new TetherException(ErrorCodes.BadRequest, $"The factory argument's type {argument.GetType().Name} is not a registered contract."));
        }

        ValueTask<Address> outcome = _host.NewRequest<Address>(typeof(CreateRequest), service, timeout, out ReplySink pending);
        Frame frame = new()
        {
            Kind = FrameKind.Create,
            SenderNode = owner.Node,
            SenderId = owner.Id,
            Contract = service,
            ErrorText = argumentCodec?.Contract,
            Flag = (tether.EndWhenOwnerEnds ? 1L : 0L) | (tether.EndWhenOwnerNodeUnreachable ? 2L : 0L) | ((long)(tether.Lease?.TotalMilliseconds ?? 0) << 2),
        };
        long correlation = Interlocked.Increment(ref _hot.NextCorrelation);
        _pending[correlation] = new PendingRemote(pending, $"service {service}", service, default, isCreate: true);
        Publish($"{_prefix}.svc.{service}", frame.Encode(argumentCodec, argument), _replyPrefix + correlation, correlation);
        return outcome;
    }

    /// <inheritdoc/>
    protected override void End(Address requestedBy, Address target, string reason, bool ownerEnded)
    {
        Frame frame = new()
        {
            Kind = FrameKind.End,
            SenderNode = requestedBy.Node,
            SenderId = requestedBy.Id,
            RecipientId = target.Id,
            ErrorText = reason,
            Flag = ownerEnded ? 1 : 0,
        };
        Outbox outbox = NodeOutbox(target.Node);
        outbox.Append(frame, null, null, outbox.BatchSubject, null, 0, null);
    }

    /// <inheritdoc/>
    protected override void Renew(Address requestedBy, Address instance)
    {
        Frame frame = new() { Kind = FrameKind.Renew, SenderNode = requestedBy.Node, SenderId = requestedBy.Id, RecipientId = instance.Id };
        Outbox outbox = NodeOutbox(instance.Node);
        outbox.Append(frame, null, null, outbox.BatchSubject, null, 0, null);
    }

    /// <inheritdoc/>
    protected override void FactoryRegistered(string service) => _ = ServeAsync(service);

    /// <inheritdoc/>
    protected override void ServicesChanged()
    {
        foreach (string service in _host.LocalServices().Keys)
        {
            _ = ServeAsync(service);
        }

        // Announce at once; a burst of registrations right after is folded into one more announcement.
        if (Interlocked.Exchange(ref _announcePending, 1) == 0)
        {
            Announce();
            _ = Task.Delay(TimeSpan.FromMilliseconds(20), _stopping.Token).ContinueWith(
                static (_, s) =>
                {
                    var proxy = (BrokerProxy)s!;
                    Volatile.Write(ref proxy._announcePending, 0);
                    if (!proxy._stopping.IsCancellationRequested)
                    {
                        proxy.Announce();
                    }
                },
                this,
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion,
                TaskScheduler.Default);
        }
    }

    /// <summary>Completes when every service and factory of this node is served on the broker (their subscriptions are in place).</summary>
    public Task WhenServingAsync() => Task.WhenAll(_services.Values);

    internal void SendResponse(string replyTo, object? value)
        => SendResponse(ReplyOutbox(replyTo, out long correlation), correlation, replyTo, value);

    /// <summary>
    /// Answers through <paramref name="outbox"/> (a Tether requester's replies) to <paramref name="correlation"/>, or,
    /// without an outbox, to <paramref name="replyTo"/> alone (a foreign requester). One of the two is given.
    /// </summary>
    internal void SendResponse(Outbox? outbox, long correlation, string? replyTo, object? value)
    {
        Type? type = value?.GetType();
        PayloadCodec? codec = null;
        if (type is not null && !_codecs.TryGetByType(type, out codec))
        {
            SendError(outbox, correlation, replyTo, ErrorCodes.BadRequest, $"The answer's type {type.Name} is not a registered contract on node {_node.Name}.");
            return;
        }

        var frame = new Frame { Kind = FrameKind.Response, SenderNode = _node.Name, SenderNodeEncoded = _nodeNameEncoded, Contract = codec?.Contract, ContractEncoded = codec?.ContractEncoded };
        int refused;
        try
        {
            if (outbox is not null)
            {
                refused = outbox.Append(frame, codec, value, replyTo, null, correlation, null);
            }
            else
            {
                byte[] bytes = frame.Encode(codec, value);
                refused = bytes.Length > Options.MaxFrameBytes ? bytes.Length : 0;
                if (refused == 0)
                {
                    Publish(replyTo!, bytes, null, 0);
                }
            }
        }
        catch (MessagePackSerializationException ex)
        {
            SendError(outbox, correlation, replyTo, ErrorCodes.BadRequest, $"The answer ({type?.Name}) could not be serialized on node {_node.Name}: {ex.Message}");
            return;
        }

        if (refused > 0)
        {
            SendError(outbox, correlation, replyTo, ErrorCodes.BadRequest, $"The answer ({type?.Name}) takes {refused} bytes, more than MaxFrameBytes ({Options.MaxFrameBytes}) on node {_node.Name}.");
        }
    }

    /// <summary>
    /// Tells a requester which node holds its request now: this one, when it took the request from a queue group, or
    /// <paramref name="holder"/>, the node this one passed the request's reply token on to.
    /// </summary>
    private void SendAccepted(string replyTo, string? holder = null, int hop = 1)
    {
        if (!IsReplySubject(replyTo))
        {
            return; // not a Tether requester: nothing to tell
        }

        Frame frame = new() { Kind = FrameKind.Accepted, SenderNode = holder ?? _node.Name, RecipientId = hop };
        if (ReplyOutbox(replyTo, out long correlation) is { } outbox && outbox.Append(frame, null, null, replyTo, null, correlation, null) == 0)
        {
            return;
        }

        Publish(replyTo, frame.Encode(null, null), null, 0);
    }

    /// <summary>The taker of a request sent through a queue group is known: watch that node from now on.</summary>
    private void OnAccepted(long correlation, string? taker, long hop)
    {
        if (taker is null || !BrokerOptions.IsToken(taker) || !_pending.TryGetValue(correlation, out PendingRemote? pending))
        {
            return; // answered already, or not a request of ours
        }

        if (hop <= pending.Hop || hop > int.MaxValue)
        {
            return; // an older notice than one already heard (notices from different nodes may cross)
        }

        pending.Hop = (int)hop;
        pending.Destination = $"node {taker}";

        // Lost before we knew it had the request: the loss scan has passed, so fail it here.
        if (IsLost(taker) && _pending.TryRemove(correlation, out _))
        {
            pending.Sink.TryFail(new TetherException(ErrorCodes.NodeUnreachable, $"{pending.Sink.Describe()}: node {taker}, which took it, is unreachable."));
        }
    }

    internal void SendError(string replyTo, string code, string text)
        => SendError(ReplyOutbox(replyTo, out long correlation), correlation, replyTo, code, text);

    /// <summary>Sends an error through <paramref name="outbox"/> to <paramref name="correlation"/>, or alone to <paramref name="replyTo"/>.</summary>
    internal void SendError(Outbox? outbox, long correlation, string? replyTo, string code, string text)
    {
        Frame frame = new() { Kind = FrameKind.Error, SenderNode = _node.Name, ErrorCode = code, ErrorText = text };
        if (outbox is not null && outbox.Append(frame, null, null, replyTo, null, correlation, null) == 0)
        {
            return;
        }

        Publish(replyTo ?? outbox!.ReplyBase + correlation.ToString(System.Globalization.CultureInfo.InvariantCulture), frame.Encode(null, null), null, 0);
    }

    /// <summary>
    /// Serves a service (a factory or registered instances) to other nodes: a NATS micro-service named after it, so
    /// <c>$SRV.PING/INFO/STATS</c> see it, with one endpoint on <c>tether.{cluster}.svc.{service}</c> in a queue group.
    /// </summary>
    private Task ServeAsync(string service)
    {
        if (!BrokerOptions.IsToken(service) || _stopping.IsCancellationRequested)
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
                new NatsSvcConfig(service, "1.0.0") { Description = $"Tether service {service} on node {_node.Name}", Metadata = new Dictionary<string, string> { ["tether.node"] = _node.Name, ["tether.cluster"] = Options.Cluster } },
                _stopping.Token).ConfigureAwait(false);
            lock (_svcServers)
            {
                _svcServers.Add(server);
            }

            await server.AddEndpointAsync<byte[]>(
                svcMsg =>
                {
                    var msg = new Incoming(svcMsg.Subject, svcMsg.ReplyTo, svcMsg.Data ?? ReadOnlyMemory<byte>.Empty);
                    Interlocked.Increment(ref _hot.Received);
                    try
                    {
                        OnService(msg, service);
                    }
#pragma warning disable CA1031 // one bad message never stops the endpoint
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        BadFrame(msg, ex.Message);
                    }

                    return ValueTask.CompletedTask;
                },
                name: "tether",
                subject: $"{_prefix}.svc.{service}",
                queueGroup: $"{_prefix}.svc",
                cancellationToken: _stopping.Token).ConfigureAwait(false);
            await _nats.PingAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnService(Incoming msg, string service)
    {
        if (!TryOpen(msg, out Frame frame, out int payloadAt))
        {
            return;
        }

        switch (frame.Kind)
        {
            case FrameKind.Create:
                OnCreate(msg, frame, payloadAt);
                break;
            case FrameKind.Send or FrameKind.Request or FrameKind.Event:
                if (frame.Kind == FrameKind.Request && msg.ReplyTo is { } replyTo)
                {
                    SendAccepted(replyTo);
                }

                DeliverLocally(msg, frame, payloadAt, service);
                break;
            default:
                BadFrame(msg, $"a {frame.Kind} frame does not belong on a service subject");
                break;
        }
    }

    private void OnCreate(Incoming msg, Frame frame, int payloadAt)
    {
        if (frame.Contract is null || msg.ReplyTo is null)
        {
            BadFrame(msg, "a service subject takes create frames with a reply subject only");
            return;
        }

        object? argument = null;
        if (frame.ErrorText is { } argumentContract)
        {
            if (!_codecs.TryGetByName(argumentContract, out PayloadCodec? codec))
            {
                BadFrame(msg, $"the factory argument's contract \"{argumentContract}\" is not registered on node {_node.Name}");
                return;
            }

            argument = Frame.ReadPayload(msg.Data, payloadAt, codec);
        }

        long leaseMs = frame.Flag >> 2;
        var tether = new TetherPolicy
        {
            EndWhenOwnerEnds = (frame.Flag & 1) != 0,
            EndWhenOwnerNodeUnreachable = (frame.Flag & 2) != 0,
            Lease = leaseMs > 0 ? TimeSpan.FromMilliseconds(leaseMs) : null,
        };
        SendAccepted(msg.ReplyTo); // the creator watches this node from now on
        _ = CreateForRemoteOwner(frame.Sender, frame.Contract, argument, tether, msg.ReplyTo);
    }

    private async Task CreateForRemoteOwner(Address owner, string service, object? argument, TetherPolicy tether, string replyTo)
    {
        try
        {
            Address instance = await _host.CreateLocal(owner, service, argument, tether, timeout: null).ConfigureAwait(false);
            SendResponse(replyTo, instance);
        }
        catch (TetherException ex)
        {
            SendError(replyTo, ex.Code, ex.Message);
        }
    }

    /// <summary>The periodic tick: announce ourselves, then look for silent peers and leftover correlations.</summary>
    private void Beat()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        Announce();
        long now = _host.TimeProvider.GetTimestamp();
        long last = Interlocked.Exchange(ref _lastBeat, now);
        if (last != 0 && _host.TimeProvider.GetElapsedTime(last, now) > Options.FailureTimeout / 2)
        {
            // This process itself stalled (a long GC pause, a starved thread pool): the peers' heartbeats may be
            // waiting in our own buffers. Judge them at the next tick, not now.
            return;
        }

        foreach ((string peer, long seen) in _peers)
        {
            if (_host.TimeProvider.GetElapsedTime(seen, now) > Options.FailureTimeout)
            {
                PeerLost(peer, seen);
            }
        }

        // Requests that ended by their deadline leave their correlation behind: drop them, and count a timed-out
        // service request against the instance that did not answer.
        foreach ((long correlation, PendingRemote pending) in _pending)
        {
            if (pending.Sink.IsCompleted && _pending.TryRemove(correlation, out _) && pending.Service is { } service && !pending.Instance.IsNone)
            {
                _router.Record(service, pending.Instance, Stopwatch.GetElapsedTime(pending.Start).TotalMilliseconds * ErrorPenalty);
            }
        }
    }

    /// <summary>The factor by which an error or a timeout weighs against an instance's moving latency.</summary>
    internal const double ErrorPenalty = 10;

    private void Announce()
    {
        var services = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach ((string name, Address[] instances) in _host.LocalServices())
        {
            services[name] = Array.ConvertAll(instances, a => a.Id);
        }

        Frame beat = new() { Kind = FrameKind.Heartbeat, SenderNode = _node.Name };
        Publish($"{_prefix}.hb", beat.Encode(_codecs.ForOwn(typeof(Dictionary<string, long[]>)), services), null, 0);
    }

    private void OnHeartbeat(Incoming msg)
    {
        if (!TryOpen(msg, out Frame frame, out int payloadAt) || frame.SenderNode is not { } peer || peer == _node.Name)
        {
            return;
        }

        if (frame.Kind == FrameKind.Bye)
        {
            PeerLost(peer, expectedSeen: null);
            return;
        }

        if (Frame.ReadPayload(msg.Data, payloadAt, _codecs.ForOwn(typeof(Dictionary<string, long[]>))) is Dictionary<string, long[]> services)
        {
            _router.Announce(peer, services);
        }

        bool joined;
        lock (_peers)
        {
            joined = !_peers.ContainsKey(peer);
            _peers[peer] = _host.TimeProvider.GetTimestamp();
            if (_lost.TryRemove(peer, out _))
            {
                Interlocked.Decrement(ref _lostCount);
            }
        }

        if (joined)
        {
            LogPeerJoined(_logger, peer);
        }
    }

    /// <summary>
    /// Declares a peer unreachable, unless a heartbeat refreshed it since <paramref name="expectedSeen"/> was read
    /// (null: unconditionally, for a goodbye). Peer state changes under one lock, so a heartbeat racing the sweep
    /// can never leave a live peer marked lost.
    /// </summary>
    private void PeerLost(string peer, long? expectedSeen)
    {
        lock (_peers)
        {
            if (!_peers.TryGetValue(peer, out long seen) || (expectedSeen is { } expected && seen != expected))
            {
                return;
            }

            _peers.TryRemove(peer, out _);
            if (_lost.TryAdd(peer, 0))
            {
                Interlocked.Increment(ref _lostCount);
            }
        }

        Interlocked.Increment(ref _peersLost);
        int failed = 0;
        _router.Forget(peer);
        string destination = $"node {peer}";
        foreach ((long correlation, PendingRemote pending) in _pending)
        {
            if (pending.Destination == destination && _pending.TryRemove(correlation, out _))
            {
                failed += pending.Sink.TryFail(new TetherException(ErrorCodes.NodeUnreachable, $"{pending.Sink.Describe()}: node {peer} is unreachable (no heartbeat within {Options.FailureTimeout.TotalSeconds:0.#} s).")) ? 1 : 0;
            }
        }

        int ended = _host.OwnerNodeLost(peer);
        LogPeerLost(_logger, peer, failed, ended);
    }

    /// <summary>Whether <paramref name="node"/> is declared unreachable; while no node is, without a lookup (it runs for every frame sent).</summary>
    private bool IsLost(string node) => Volatile.Read(ref _lostCount) != 0 && _lost.ContainsKey(node);

    private static string FormatTrace(ActivityContext trace)
        => $"00-{trace.TraceId.ToHexString()}-{trace.SpanId.ToHexString()}-{(trace.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? "01" : "00")}";

    /// <summary>Names a remote create in errors.</summary>
    private sealed class CreateRequest;
}
