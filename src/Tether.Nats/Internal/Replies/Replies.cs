using System.Diagnostics;
using MessagePack;
using Tether.Transport;

namespace Tether.Nats.Internal;

/// <summary>
/// Requests in flight: the table of those this node awaits (by correlation), their answers, errors and
/// <c>Accepted</c> notices as they come back, and this node's answers to requests that came from others.
/// </summary>
internal sealed class Replies(BrokerProxy proxy)
{
    private readonly BrokerProxy _proxy = proxy;

    /// <summary>The requests this node awaits. Striped: requests are added by the callers' threads while answers remove them on the socket reader.</summary>
    public PendingTable Pending { get; } = new();

    /// <summary>The next correlation of a request of this node.</summary>
    public long NextCorrelation() => Interlocked.Increment(ref _proxy.Hot.NextCorrelation);

    /// <summary>True for a Tether reply subject of this cluster (<c>tether.{cluster}.reply.{node}.{correlation}</c>).</summary>
    public bool IsReplySubject(string subject)
        => subject.StartsWith(_proxy.Link.ReplyHead, StringComparison.Ordinal)
            && subject.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>Fails every request still awaited (the proxy closes).</summary>
    public void FailAll(string why)
    {
        foreach ((long correlation, PendingRemote pending) in Pending)
        {
            pending.Sink.TryFail(new TetherException(ErrorCodes.NodeUnreachable, $"{pending.Sink.Describe()}: {why}"));
            Pending.TryRemove(correlation, out _);
        }
    }

    public void OnReply(Incoming msg)
    {
        long correlation = msg.Correlation;
        if (correlation == 0 && !long.TryParse(msg.Subject.AsSpan(_proxy.Link.ReplyPrefix.Length), out correlation))
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
        bool opened = !msg.HasNoResponders && _proxy.Inbound.TryOpen(msg, out frame, out payloadAt);
        if (opened && frame.Kind == FrameKind.Accepted)
        {
            OnAccepted(correlation, frame.SenderNode, frame.RecipientId); // not the answer: the request stays pending
            return;
        }

        if (!Pending.TryRemove(correlation, out PendingRemote? pending))
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
                _proxy.Router.Record(failing, pending.Instance, Stopwatch.GetElapsedTime(pending.Start).TotalMilliseconds * ServiceRouter.ErrorPenalty); // failing fast is not being fast
            }

            sink.TryFail(new TetherException(frame.ErrorCode ?? ErrorCodes.HandlerFailed, frame.ErrorText ?? "remote error"));
            return;
        }

        object? value = null;
        if (frame.Contract is not null)
        {
            if (!_proxy.Codecs.TryGetByName(frame.Contract, out PayloadCodec? codec))
            {
                sink.TryFail(new TetherException(ErrorCodes.BadRequest, $"{sink.Describe()}: the answer's contract \"{frame.Contract}\" is not registered on node {_proxy.NodeName}."));
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
            _proxy.Router.Record(routed, pending.Instance, Stopwatch.GetElapsedTime(pending.Start).TotalMilliseconds);
        }

        if (!pending.IsCreate && InboundDispatch.Answers is { Collecting: true } answers)
        {
            answers.Add(sink, value); // completed with the others of this message, see Dispatch
            return;
        }

        if (!sink.TryComplete(value) && pending.IsCreate && value is Address orphan)
        {
            // The creator gave up (deadline) before the instance arrived: nobody owns it, so it must not live on.
            _proxy.Outgoing.End(default, orphan, "its creator stopped waiting", ownerEnded: false);
        }
    }

    /// <summary>An answer to a whole batch of requests: the server's "no responders", or the receiver's rejection.</summary>
    public void OnBatchAnswer(long batch, Incoming msg)
    {
        TetherException? error = null;
        if (msg.HasNoResponders)
        {
            error = null; // per request below: its destination is in the text
        }
        else if (_proxy.Inbound.TryOpen(msg, out Frame frame, out _) && frame.Kind == FrameKind.Error)
        {
            error = new TetherException(frame.ErrorCode ?? ErrorCodes.BadRequest, frame.ErrorText ?? "the batch was rejected");
        }
        else
        {
            return;
        }

        foreach ((long correlation, PendingRemote pending) in Pending)
        {
            if (pending.Batch == batch && Pending.TryRemove(correlation, out _))
            {
                pending.Sink.TryFail(error ?? new TetherException(ErrorCodes.NodeUnreachable, $"{pending.Sink.Describe()}: nobody on the broker listens for {pending.Destination} (no responders)."));
            }
        }
    }

    /// <summary>The taker of a request sent through a queue group is known: watch that node from now on.</summary>
    private void OnAccepted(long correlation, string? taker, long hop)
    {
        if (taker is null || !BrokerOptions.IsToken(taker) || !Pending.TryGetValue(correlation, out PendingRemote? pending))
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
        if (_proxy.Heartbeats.IsLost(taker) && Pending.TryRemove(correlation, out _))
        {
            pending.Sink.TryFail(_proxy.Heartbeats.Gone(taker, $"{pending.Sink.Describe()}: taken by node {taker}")); // node-stopped after its goodbye
        }
    }

    /// <summary>
    /// Tells a requester which node holds its request now: this one, when it took the request from a queue group, or
    /// <paramref name="holder"/>, the node this one passed the request's reply token on to.
    /// </summary>
    public void SendAccepted(string replyTo, string? holder = null, int hop = 1)
    {
        if (!IsReplySubject(replyTo))
        {
            return; // not a Tether requester: nothing to tell
        }

        Frame frame = new() { Kind = FrameKind.Accepted, SenderNode = holder ?? _proxy.NodeName, RecipientId = hop };
        if (_proxy.Outboxes.ReplyOutbox(replyTo, out long correlation) is { } outbox && outbox.Append(frame, null, null, replyTo, null, correlation, null) == 0)
        {
            return;
        }

        _proxy.Link.Publish(replyTo, frame.Encode(null, null), null, 0);
    }

    internal void SendResponse(string replyTo, object? value)
        => SendResponse(_proxy.Outboxes.ReplyOutbox(replyTo, out long correlation), correlation, replyTo, value);

    /// <summary>
    /// Answers through <paramref name="outbox"/> (a Tether requester's replies) to <paramref name="correlation"/>, or,
    /// without an outbox, to <paramref name="replyTo"/> alone (a foreign requester). One of the two is given.
    /// </summary>
    internal void SendResponse(Outbox? outbox, long correlation, string? replyTo, object? value)
    {
        Type? type = value?.GetType();
        PayloadCodec? codec = null;
        if (type is not null && !_proxy.Codecs.TryGetByType(type, out codec))
        {
            SendError(outbox, correlation, replyTo, ErrorCodes.BadRequest, $"The answer's type {type.Name} is not a registered contract on node {_proxy.NodeName}.");
            return;
        }

        var frame = new Frame { Kind = FrameKind.Response, SenderNode = _proxy.NodeName, SenderNodeEncoded = _proxy.NodeNameEncoded, Contract = codec?.Contract, ContractEncoded = codec?.ContractEncoded };
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
                refused = bytes.Length > _proxy.Options.MaxFrameBytes ? bytes.Length : 0;
                if (refused == 0)
                {
                    _proxy.Link.Publish(replyTo!, bytes, null, 0);
                }
            }
        }
        catch (MessagePackSerializationException ex)
        {
            SendError(outbox, correlation, replyTo, ErrorCodes.BadRequest, $"The answer ({type?.Name}) could not be serialized on node {_proxy.NodeName}: {ex.Message}");
            return;
        }

        if (refused > 0)
        {
            SendError(outbox, correlation, replyTo, ErrorCodes.BadRequest, $"The answer ({type?.Name}) takes {refused} bytes, more than MaxFrameBytes ({_proxy.Options.MaxFrameBytes}) on node {_proxy.NodeName}.");
        }
    }

    internal void SendError(string replyTo, string code, string text)
        => SendError(_proxy.Outboxes.ReplyOutbox(replyTo, out long correlation), correlation, replyTo, code, text);

    /// <summary>Sends an error through <paramref name="outbox"/> to <paramref name="correlation"/>, or alone to <paramref name="replyTo"/>.</summary>
    internal void SendError(Outbox? outbox, long correlation, string? replyTo, string code, string text)
    {
        Frame frame = new() { Kind = FrameKind.Error, SenderNode = _proxy.NodeName, ErrorCode = code, ErrorText = text };
        if (outbox is not null && outbox.Append(frame, null, null, replyTo, null, correlation, null) == 0)
        {
            return;
        }

        _proxy.Link.Publish(replyTo ?? outbox!.ReplyBase + correlation.ToString(System.Globalization.CultureInfo.InvariantCulture), frame.Encode(null, null), null, 0);
    }
}
