using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Tether.Transport;

namespace Tether.Nats.Internal;

/// <summary>
/// Topics across nodes: events on <c>tether.{cluster}.evt.{topic}</c>; a durable topic
/// (<see cref="BrokerOptions.DurableTopics"/>) lives on a JetStream stream that keeps its latest event, handed to each
/// new subscriber before live events.
/// </summary>
internal sealed partial class NatsTopics(BrokerProxy proxy)
{
    private readonly BrokerProxy _proxy = proxy;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _topics = new(StringComparer.Ordinal);
    private NatsJSContext? _js;
    private long _durableAcknowledged;
    private long _durableFailed;

    /// <summary>Durable events this node published that JetStream acknowledged (<see cref="BrokerStatistics.DurableAcknowledged"/>).</summary>
    public long DurableAcknowledged => Interlocked.Read(ref _durableAcknowledged);

    /// <summary>Durable events this node published that JetStream did not acknowledge (<see cref="BrokerStatistics.DurableFailed"/>).</summary>
    public long DurableFailed => Interlocked.Read(ref _durableFailed);

    private static readonly TimeSpan s_streamDeadline = TimeSpan.FromSeconds(30);

    // Events kept per topic. A late subscriber is handed only the latest; the others are there for live subscribers
    // whose pull lapsed (a slow or briefly cut-off consumer): with one kept, an event replaced before the consumer read
    // it was never delivered to it (seen across a pod's partition: 28 acknowledged events in a row missed).
    internal const int HistoryPerTopic = 1000;

    // Short pulls (heartbeats every second): when the consumer's leader moves (a hub server lost), the pull waiting on
    // the old leader is gone; the client notices the missing heartbeats and pulls again within seconds, not after
    // the default 30 s, so live events reach a subscriber that was there through the loss.
    private static readonly NatsJSConsumeOpts s_consumeOpts = new() { MaxMsgs = 1000, Expires = TimeSpan.FromSeconds(2) };
    private static readonly TimeSpan s_streamRetry = TimeSpan.FromMilliseconds(500);

    private string StreamName => $"TETHER_{_proxy.Options.Cluster.Replace('-', '_')}_DURABLE";

    /// <summary>Creates the JetStream stream behind durable topics: the latest event per topic is kept for late subscribers.</summary>
    public async Task StartDurableTopicsAsync(CancellationToken cancellation)
    {
        if (_proxy.Options.DurableTopics.Count == 0)
        {
            return;
        }

        _js = _proxy.Options.JetStreamDomain is { Length: > 0 } domain
            ? new NatsJSContext(_proxy.Link.Nats, new NatsJSOpts(_proxy.Link.Nats.Opts, domain: domain))
            : new NatsJSContext(_proxy.Link.Nats);
        var config = new StreamConfig(StreamName, [$"{_proxy.Link.Prefix}.devt.>"]) { MaxMsgsPerSubject = HistoryPerTopic, Storage = StreamConfigStorage.File, NumReplicas = _proxy.Options.DurableTopicReplicas, Description = "Tether durable topics: the latest events of each" };
        long start = Stopwatch.GetTimestamp();
        try
        {
            while (true)
            {
                try
                {
                    await _js.CreateOrUpdateStreamAsync(config, cancellation).ConfigureAwait(false);
                    break;
                }
                catch (Exception ex) when (ex is NatsJSApiNoResponseException or NatsJSApiException { Error.Code: 503 } or NatsJSApiException { Error.ErrCode: NoSuitablePeers } && Stopwatch.GetElapsedTime(start) < s_streamDeadline)
                {
                    // JetStream is there but did not answer in time: a replicated stream's first creation (several
                    // nodes starting at once, leaders being elected in the hub) can outlast one API call's timeout. Or
                    // the hub's members have not all joined yet, so a stream with several replicas finds no place.
                    LogDurableStreamRetry(_proxy.Logger, StreamName, ex.Message);
                    await Task.Delay(s_streamRetry, cancellation).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is NatsJSException or NatsNoRespondersException)
        {
            // No responders: the server runs without JetStream, so nobody answers its API subjects.
            throw new TetherException(
                ErrorCodes.BadRequest,
                $"BrokerOptions.DurableTopics ({string.Join(", ", _proxy.Options.DurableTopics.Order(StringComparer.Ordinal))}) need JetStream, and none answered at {_proxy.Options.Url}{(_proxy.Options.JetStreamDomain is { } d ? $" in domain \"{d}\"" : "")} ({ex.Message}). Start nats-server with -js (or a jetstream {{}} block in its configuration, on every member of a cluster); behind a leaf node without JetStream, set BrokerOptions.JetStreamDomain (Tether:Nats:JetStreamDomain) to the hub's domain; or leave these topics out of DurableTopics.",
                ex);
        }
    }

    public void TopicSubscribed(string topic, Address subscriber, bool first)
    {
        Task subscribed = SubscribeTopicAsync(topic);
        if (_proxy.Options.DurableTopics.Contains(topic) && _js is not null)
        {
            _ = HandLatestAsync(topic, subscriber, subscribed);
        }
    }

    /// <summary>Gives a new subscriber of a durable topic the topic's latest event, once live events flow.</summary>
    private async Task HandLatestAsync(string topic, Address subscriber, Task subscribed)
    {
        try
        {
            await subscribed.ConfigureAwait(false);
            StreamMsgGetResponse latest = await RetryJetStreamAsync(
                async () =>
                {
                    INatsJSStream stream = await _js!.GetStreamAsync(StreamName, cancellationToken: _proxy.Link.Stopping.Token).ConfigureAwait(false);
                    return await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = $"{_proxy.Link.Prefix}.devt.{topic}" }, _proxy.Link.Stopping.Token).ConfigureAwait(false);
                },
                "reading the latest event of durable topic " + topic).ConfigureAwait(false);
            if (latest.Message is { Data.Length: > 0 } message)
            {
                int payloadAt = Frame.DecodeHeader(message.Data.Span, out Frame frame);
                if (frame.Contract is not null && _proxy.Codecs.TryGetByName(frame.Contract, out PayloadCodec? codec) && Frame.ReadPayload(message.Data, payloadAt, codec) is { } payload)
                {
                    _proxy.NodeHost.Deliver(frame.SenderNode is not null && frame.SenderId > 0 ? frame.Sender : default, subscriber, payload, MessageKind.Event, null, default, null);
                }
            }
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404 && ex.Error.ErrCode == NoMessageFound)
        {
            // Nothing published on the topic yet: no state to hand over.
        }
        catch (Exception ex) when (ex is NatsException or WireException or OperationCanceledException or FormatException)
        {
            LogDurablePublishFailed(_proxy.Logger, topic, "handing the latest event to a new subscriber failed: " + ex.Message);
        }
    }

    public Task SubscribeTopicAsync(string topic)
    {
        if (!IsSubjectSafe(topic) || _proxy.Link.Stopping.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        Task subscribing = _topics.GetOrAdd(topic, t => _proxy.Options.DurableTopics.Contains(t) ? ConsumeDurableAsync(t) : _proxy.Link.SubscribeAsync($"{_proxy.Link.Prefix}.evt.{t}", null, msg => OnEvent(msg, t), _proxy.Link.Stopping.Token));
        NatsServices.ForgetIfFailed(_topics, topic, subscribing);
        return subscribing;
    }

    private async Task ConsumeDurableAsync(string topic)
    {
        if (_js is null)
        {
            return;
        }

        // Live events from now on; each new subscriber gets the latest one on its own (HandLatestAsync). The consumer
        // is created on the server before this returns, so nothing published after a subscription is missed.
        NatsJSContext js = _js;
        INatsJSConsumer consumer = await RetryJetStreamAsync(() => js.CreateOrUpdateConsumerAsync(
            StreamName,
            new ConsumerConfig
            {
                // nats-server 2.9 wants a named consumer when the filter has several tokens.
                Name = $"tether_{_proxy.NodeName}_{topic.Replace('.', '_')}",
                FilterSubject = $"{_proxy.Link.Prefix}.devt.{topic}",
                DeliverPolicy = ConsumerConfigDeliverPolicy.New,
                AckPolicy = ConsumerConfigAckPolicy.None,

                // As many replicas as the stream: a consumer with an inactivity threshold is otherwise kept on one
                // server, and when that server is lost the subscriber's live events stop for good.
                NumReplicas = _proxy.Options.DurableTopicReplicas,
                InactiveThreshold = TimeSpan.FromMinutes(1),
                Description = $"Tether node {_proxy.NodeName}: live events of durable topic {topic}",
            },
            _proxy.Link.Stopping.Token).AsTask(), "creating the consumer of durable topic " + topic).ConfigureAwait(false);
        Task loop = Task.Run(async () =>
        {
            try
            {
                await foreach (NatsJSMsg<byte[]> msg in consumer.ConsumeAsync<byte[]>(opts: s_consumeOpts, cancellationToken: _proxy.Link.Stopping.Token).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref _proxy.Hot.Received);
                    try
                    {
                        OnEvent(new Incoming(msg.Subject, null, msg.Data ?? ReadOnlyMemory<byte>.Empty), topic);
                    }
#pragma warning disable CA1031 // one bad event never stops the topic
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        _proxy.Inbound.BadFrame(new Incoming(msg.Subject, null, msg.Data ?? ReadOnlyMemory<byte>.Empty), ex.Message);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
#pragma warning disable CA1031 // a dead consumer is logged; the next subscription to the topic starts a new one
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogDurablePublishFailed(_proxy.Logger, topic, "the durable topic's consumer stopped: " + ex.Message);
                _topics.TryRemove(topic, out _);
            }
        });
        _proxy.Link.AddLoop(loop);
    }

    /// <summary>
    /// A JetStream API call, tried again while JetStream does not answer or says it is temporarily unavailable: right
    /// after a hub server's loss the stream's and the consumers' leaders are being elected again, and a subscription
    /// made then (a late subscriber) would otherwise get neither the latest event nor live ones.
    /// </summary>
    private async Task<T> RetryJetStreamAsync<T>(Func<Task<T>> call, string what)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex) && Stopwatch.GetElapsedTime(start) < s_streamDeadline && !_proxy.Link.Stopping.IsCancellationRequested)
            {
                LogJetStreamRetry(_proxy.Logger, what, ex.Message);
                await Task.Delay(s_streamRetry, _proxy.Link.Stopping.Token).ConfigureAwait(false);
            }
        }
    }

    // No answer in time, "JetStream system temporarily unavailable" (503), a leader not elected yet (500), or "stream
    // not found" from a server that has not learned the stream's placement again after a member's loss.
    private static bool IsTransient(Exception ex)
        => ex is NatsJSApiNoResponseException or NatsNoRespondersException or NatsJSApiException { Error.Code: 503 or 500 } or NatsJSApiException { Error.ErrCode: StreamNotFound } or NatsJSException { InnerException: TimeoutException };

    private const int NoMessageFound = 10037; // JetStream's err_code for "no message found"

    private const int NoSuitablePeers = 10005; // JetStream's err_code for "no suitable peers for placement"
    private const int StreamNotFound = 10059; // and for "stream not found"

    public void PublishEvent(Address sender, string topic, object @event, ActivityContext trace)
    {
        if (!IsSubjectSafe(topic))
        {
            throw new TetherException(ErrorCodes.BadRequest, $"The topic \"{topic}\" cannot cross nodes: use letters, digits, '-', '_' and '.' only.");
        }

        Type type = @event.GetType();
        if (!_proxy.Codecs.TryGetByType(type, out PayloadCodec? codec))
        {
            throw new TetherException(ErrorCodes.BadRequest, $"{type.Name} is not a registered contract, so it cannot be published to other nodes on topic \"{topic}\".");
        }

        Frame frame = new()
        {
            Kind = FrameKind.Event,
            SenderNode = _proxy.NodeName,
            SenderId = sender.IsNone ? 0 : sender.Id,
            Contract = codec.Contract,
            TraceParent = trace == default ? null : Outgoing.FormatTrace(trace),
        };
        byte[] bytes = frame.Encode(codec, @event);
        if (_proxy.Options.DurableTopics.Contains(topic) && _js is not null)
        {
            Interlocked.Increment(ref _proxy.Hot.Sent);
            PublishDurable($"{_proxy.Link.Prefix}.devt.{topic}", bytes);
            return;
        }

        _proxy.Link.Publish($"{_proxy.Link.Prefix}.evt.{topic}", bytes, null, 0);
    }

    private void OnEvent(Incoming msg, string topic)
    {
        if (!_proxy.Inbound.TryOpen(msg, out Frame frame, out int payloadAt))
        {
            return;
        }

        if (frame.Kind != FrameKind.Event)
        {
            _proxy.Inbound.BadFrame(msg, $"a {frame.Kind} frame does not belong on the topic {topic}");
            return;
        }

        if (frame.SenderNode == _proxy.NodeName)
        {
            // Our own events were delivered locally when they were published.
            return;
        }

        if (frame.Contract is null || !_proxy.Codecs.TryGetByName(frame.Contract, out PayloadCodec? codec))
        {
            _proxy.Inbound.BadFrame(msg, $"the event contract \"{frame.Contract}\" is not registered on node {_proxy.NodeName}");
            return;
        }

        if (Frame.ReadPayload(msg.Data, payloadAt, codec) is not { } payload)
        {
            _proxy.Inbound.BadFrame(msg, "the event is empty");
            return;
        }

        ActivityContext.TryParse(frame.TraceParent, null, out ActivityContext trace);
        Address sender = frame.SenderNode is not null && frame.SenderId > 0 ? frame.Sender : default;
        _proxy.NodeHost.PublishLocal(sender, topic, payload, trace);
    }

    private static bool IsSubjectSafe(string topic)
        => topic.Length > 0 && !topic.StartsWith('.') && !topic.EndsWith('.') && !topic.Contains("..", StringComparison.Ordinal)
            && topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    [LoggerMessage(7, LogLevel.Information, "JetStream did not create the durable topics' stream {Stream} yet ({Why}); trying again")]
    private static partial void LogDurableStreamRetry(ILogger logger, string stream, string why);

    [LoggerMessage(8, LogLevel.Information, "JetStream did not answer while {What} ({Why}); trying again")]
    private static partial void LogJetStreamRetry(ILogger logger, string what, string why);

    [LoggerMessage(5, LogLevel.Warning, "Publishing a durable event on {Subject} failed: {Why}")]
    private static partial void LogDurablePublishFailed(ILogger logger, string subject, string why);
}
