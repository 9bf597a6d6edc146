using System.Diagnostics;
using System.Threading.Channels;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Tether.Nats.Internal;

/// <summary>
/// Publishing durable events: one outbox per subject, sent in the order this node published them, each tried again while
/// JetStream does not answer (a stream leader being elected, a hub server lost) up to <see cref="s_streamDeadline"/>
/// after it was published. A message id makes a retry of an event the stream already stored a no-op (JetStream's
/// duplicate window), so a retry never delivers an event twice, and a later event never overtakes an earlier one that is
/// being retried (the stream keeps the latest event per topic: reordering would keep a stale one).
/// </summary>
internal sealed partial class NatsTopics
{
    private readonly Dictionary<string, Channel<DurablePublish>> _durableOutboxes = new(StringComparer.Ordinal);
    private readonly List<Task> _durableLoops = [];
    private bool _durableClosed;
    private readonly string _msgIdPrefix = $"{Guid.NewGuid():N}-";
    private long _durableSequence;

    private readonly record struct DurablePublish(byte[] Bytes, long Published, long Sequence);

    private void PublishDurable(string subject, byte[] bytes)
    {
        var publish = new DurablePublish(bytes, Stopwatch.GetTimestamp(), Interlocked.Increment(ref _durableSequence));
        lock (_durableOutboxes)
        {
            if (_durableClosed)
            {
                Interlocked.Increment(ref _durableFailed);
                LogDurablePublishFailed(_proxy.Logger, subject, "the broker proxy is stopping");
                return;
            }

            if (!_durableOutboxes.TryGetValue(subject, out Channel<DurablePublish>? outbox))
            {
                outbox = Channel.CreateUnbounded<DurablePublish>(new UnboundedChannelOptions { SingleReader = true });
                _durableOutboxes.Add(subject, outbox);
                Task loop = Task.Run(() => SendDurableAsync(subject, outbox.Reader));
                _durableLoops.Add(loop);
                _proxy.Link.AddLoop(loop);
            }

            outbox.Writer.TryWrite(publish); // unbounded, and completed only under this lock
        }
    }

    private async Task SendDurableAsync(string subject, ChannelReader<DurablePublish> outbox)
    {
        CancellationToken stopping = _proxy.Link.Stopping.Token;
        bool sending = false;
        try
        {
            while (await outbox.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                while (outbox.TryRead(out DurablePublish publish))
                {
                    sending = true;
                    await SendDurableAsync(subject, publish, stopping).ConfigureAwait(false);
                    sending = false;
                }
            }
        }
        catch (OperationCanceledException)
        {
            int left = outbox.Count + (sending ? 1 : 0);
            if (left > 0)
            {
                Interlocked.Add(ref _durableFailed, left);
                LogDurablePublishFailed(_proxy.Logger, subject, $"the broker proxy stopped with {left} durable event(s) not yet acknowledged");
            }
        }
    }

    private async Task SendDurableAsync(string subject, DurablePublish publish, CancellationToken stopping)
    {
        var opts = new NatsJSPubOpts { MsgId = _msgIdPrefix + publish.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        while (true)
        {
            try
            {
                PubAckResponse ack = await _js!.PublishAsync(subject, publish.Bytes, opts: opts, cancellationToken: stopping).ConfigureAwait(false);
                ack.EnsureSuccess();
                Interlocked.Increment(ref _durableAcknowledged);
                return;
            }
            catch (NatsJSDuplicateMessageException)
            {
                Interlocked.Increment(ref _durableAcknowledged);
                return; // an earlier try was stored and its acknowledgement lost: stored once, as it should be
            }
            catch (Exception ex) when (IsTransientPublish(ex) && Stopwatch.GetElapsedTime(publish.Published) < s_streamDeadline && !stopping.IsCancellationRequested)
            {
                LogJetStreamRetry(_proxy.Logger, "publishing a durable event on " + subject, ex.Message);
                await Task.Delay(s_streamRetry, stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NatsException)
            {
                Interlocked.Increment(ref _durableFailed);
                LogDurablePublishFailed(_proxy.Logger, subject, ex.Message);
                return;
            }
        }
    }

    // A publish's own ways of saying "no answer in time" (the client has already tried once more), besides the API's.
    private static bool IsTransientPublish(Exception ex)
        => IsTransient(ex) || ex is NatsJSPublishNoResponseException or NatsJSTimeoutException or NatsJSConnectionException;

    /// <summary>
    /// A clean stop (the node is detached, so nothing more is published): what the durable outboxes hold is sent and
    /// acknowledged first, within <paramref name="limit"/>; what is left then is logged when the loops are cancelled.
    /// </summary>
    public async Task DrainDurableAsync(TimeSpan limit)
    {
        Task[] loops;
        lock (_durableOutboxes)
        {
            _durableClosed = true;
            foreach (Channel<DurablePublish> outbox in _durableOutboxes.Values)
            {
                outbox.Writer.TryComplete();
            }

            loops = [.. _durableLoops];
        }

        if (loops.Length > 0 && _proxy.Link.IsConnected)
        {
            try
            {
                await Task.WhenAll(loops).WaitAsync(limit).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // What is still unacknowledged is logged by its loop when the proxy's stop cancels it.
            }
        }
    }
}
