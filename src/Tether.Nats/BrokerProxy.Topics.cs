using System.Diagnostics;
using MessagePack;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Tether.Internal;
using Tether.Nats.Internal;

namespace Tether.Nats;

public sealed partial class BrokerProxy
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _topics = new(StringComparer.Ordinal);
    private NatsJSContext? _js;

    private string StreamName => $"TETHER_{Options.Cluster.Replace('-', '_')}_DURABLE";

    /// <summary>Creates the JetStream stream behind durable topics: the latest event per topic is kept for late subscribers.</summary>
    private async Task StartDurableTopicsAsync(CancellationToken cancellation)
    {
        if (Options.DurableTopics.Count == 0)
        {
            return;
        }

        _js = Options.JetStreamDomain is { Length: > 0 } domain ? new NatsJSContext(_nats, new NatsJSOpts(_nats.Opts, domain: domain)) : new NatsJSContext(_nats);
        try
        {
            await _js.CreateOrUpdateStreamAsync(
                new StreamConfig(StreamName, [$"{_prefix}.devt.>"]) { MaxMsgsPerSubject = 1, Storage = StreamConfigStorage.File, NumReplicas = Options.DurableTopicReplicas, Description = "Tether durable topics: the latest event of each" },
                cancellation).ConfigureAwait(false);
        }
        catch (NatsJSException ex)
        {
            throw new TetherException(ErrorCodes.BadRequest, $"BrokerOptions.DurableTopics needs JetStream on the NATS server ({Options.Url}): {ex.Message}", ex);
        }
        catch (NatsNoRespondersException ex)
        {
            // Nobody answers the JetStream API: no JetStream here, or a leaf node in front of it that does not extend it.
            throw new TetherException(ErrorCodes.BadRequest, $"BrokerOptions.DurableTopics needs JetStream, and no JetStream answered at {Options.Url}{(Options.JetStreamDomain is { } d ? $" in domain \"{d}\"" : "")}: enable it on the server, or, behind a leaf node without JetStream, set BrokerOptions.JetStreamDomain (Tether:Nats:JetStreamDomain) to the hub's JetStream domain.", ex);
        }
    }

    void IRemoteTransport.TopicSubscribed(string topic, TargetCell subscriber, bool first)
    {
        Task subscribed = SubscribeTopicAsync(topic);
        if (Options.DurableTopics.Contains(topic) && _js is not null)
        {
            _ = HandLatestAsync(topic, subscriber, subscribed);
        }
    }

    /// <summary>Gives a new subscriber of a durable topic the topic's latest event, once live events flow.</summary>
    private async Task HandLatestAsync(string topic, TargetCell subscriber, Task subscribed)
    {
        try
        {
            await subscribed.ConfigureAwait(false);
            INatsJSStream stream = await _js!.GetStreamAsync(StreamName, cancellationToken: _stopping.Token).ConfigureAwait(false);
            StreamMsgGetResponse latest = await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = $"{_prefix}.devt.{topic}" }, _stopping.Token).ConfigureAwait(false);
            if (latest.Message is { Data.Length: > 0 } message)
            {
                int payloadAt = Frame.DecodeHeader(message.Data.Span, out Frame frame);
                if (frame.Contract is not null && _codecs.TryGetByName(frame.Contract, out PayloadCodec? codec) && Frame.ReadPayload(message.Data, payloadAt, codec) is { } payload)
                {
                    _node.DeliverTo(subscriber, frame.SenderNode is not null && frame.SenderId > 0 ? frame.Sender : default, payload, Category.Event, null, default);
                }
            }
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            // Nothing published on the topic yet: no state to hand over.
        }
        catch (Exception ex) when (ex is NatsException or WireException or OperationCanceledException or FormatException)
        {
            LogDurablePublishFailed(_logger, topic, "handing the latest event to a new subscriber failed: " + ex.Message);
        }
    }

    private Task SubscribeTopicAsync(string topic)
    {
        if (!IsSubjectSafe(topic) || _stopping.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        Task subscribing = _topics.GetOrAdd(topic, t => Options.DurableTopics.Contains(t) ? ConsumeDurableAsync(t) : SubscribeAsync($"{_prefix}.evt.{t}", null, msg => OnEvent(msg, t), _stopping.Token));
        ForgetIfFailed(_topics, topic, subscribing);
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
        INatsJSConsumer consumer = await _js.CreateOrUpdateConsumerAsync(
            StreamName,
            new ConsumerConfig
            {
                // nats-server 2.9 wants a named consumer when the filter has several tokens.
                Name = $"tether_{_node.Name}_{topic.Replace('.', '_')}",
                FilterSubject = $"{_prefix}.devt.{topic}",
                DeliverPolicy = ConsumerConfigDeliverPolicy.New,
                AckPolicy = ConsumerConfigAckPolicy.None,
                InactiveThreshold = TimeSpan.FromMinutes(1),
                Description = $"Tether node {_node.Name}: live events of durable topic {topic}",
            },
            _stopping.Token).ConfigureAwait(false);
        Task loop = Task.Run(async () =>
        {
            try
            {
                await foreach (NatsJSMsg<byte[]> msg in consumer.ConsumeAsync<byte[]>(cancellationToken: _stopping.Token).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref _hot.Received);
                    try
                    {
                        OnEvent(new Incoming(msg.Subject, null, msg.Data ?? ReadOnlyMemory<byte>.Empty), topic);
                    }
#pragma warning disable CA1031 // one bad event never stops the topic
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        BadFrame(new Incoming(msg.Subject, null, msg.Data ?? ReadOnlyMemory<byte>.Empty), ex.Message);
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
                LogDurablePublishFailed(_logger, topic, "the durable topic's consumer stopped: " + ex.Message);
                _topics.TryRemove(topic, out _);
            }
        });
        lock (_subs)
        {
            _loops.Add(loop);
        }
    }

    void IRemoteTransport.Publish(Address sender, string topic, object @event, ActivityContext trace)
    {
        if (!IsSubjectSafe(topic))
        {
            throw new TetherException(ErrorCodes.BadRequest, $"The topic \"{topic}\" cannot cross nodes: use letters, digits, '-', '_' and '.' only.");
        }

        Type type = @event.GetType();
        if (!_codecs.TryGetByType(type, out PayloadCodec? codec))
        {
            throw new TetherException(ErrorCodes.BadRequest, $"{type.Name} is not a registered contract, so it cannot be published to other nodes on topic \"{topic}\".");
        }

        Frame frame = new()
        {
            Kind = FrameKind.Event,
            SenderNode = _node.Name,
            SenderId = sender.IsNone ? 0 : sender.Id,
            Contract = codec.Contract,
            TraceParent = trace == default ? null : FormatTrace(trace),
        };
        byte[] bytes = frame.Encode(codec, @event);
        if (Options.DurableTopics.Contains(topic) && _js is not null)
        {
            _ = PublishDurableAsync($"{_prefix}.devt.{topic}", bytes);
            return;
        }

        Publish($"{_prefix}.evt.{topic}", bytes, null, 0);
    }

    private async Task PublishDurableAsync(string subject, byte[] bytes)
    {
        Interlocked.Increment(ref _hot.Sent);
        try
        {
            PubAckResponse ack = await _js!.PublishAsync(subject, bytes, cancellationToken: _stopping.Token).ConfigureAwait(false);
            ack.EnsureSuccess();
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException)
        {
            LogDurablePublishFailed(_logger, subject, ex.Message);
        }
    }

    private void OnEvent(Incoming msg, string topic)
    {
        if (!TryOpen(msg, out Frame frame, out int payloadAt))
        {
            return;
        }

        if (frame.Kind != FrameKind.Event || frame.SenderNode == _node.Name)
        {
            // Our own events were delivered locally when they were published.
            return;
        }

        if (frame.Contract is null || !_codecs.TryGetByName(frame.Contract, out PayloadCodec? codec))
        {
            BadFrame(msg, $"the event contract \"{frame.Contract}\" is not registered on node {_node.Name}");
            return;
        }

        if (Frame.ReadPayload(msg.Data, payloadAt, codec) is not { } payload)
        {
            BadFrame(msg, "the event is empty");
            return;
        }

        ActivityContext.TryParse(frame.TraceParent, null, out ActivityContext trace);
        Address sender = frame.SenderNode is not null && frame.SenderId > 0 ? frame.Sender : default;
        _node.Topics.PublishLocal(sender, topic, payload, trace);
    }

    /// <summary>A subscription that failed (a transient broker error) is not cached: the next attempt tries again.</summary>
    private static void ForgetIfFailed(System.Collections.Concurrent.ConcurrentDictionary<string, Task> cache, string key, Task task)
        => task.ContinueWith(
            t => cache.TryRemove(KeyValuePair.Create(key, t)),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private static bool IsSubjectSafe(string topic)
        => topic.Length > 0 && !topic.StartsWith('.') && !topic.EndsWith('.') && !topic.Contains("..", StringComparison.Ordinal)
            && topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    [Microsoft.Extensions.Logging.LoggerMessage(5, Microsoft.Extensions.Logging.LogLevel.Warning, "Publishing a durable event on {Subject} failed: {Why}")]
    private static partial void LogDurablePublishFailed(Microsoft.Extensions.Logging.ILogger logger, string subject, string why);
}
