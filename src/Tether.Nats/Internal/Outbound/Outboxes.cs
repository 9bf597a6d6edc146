using System.Collections.Concurrent;

namespace Tether.Nats.Internal;

/// <summary>
/// Outbound batching: an <see cref="Outbox"/> per destination (a peer's inbox, or a peer's replies), each publishing
/// what piles up as one NATS message (see <see cref="Outbox"/> for when frames leave).
/// </summary>
internal sealed partial class Outboxes
{
    private readonly BrokerProxy _proxy;
    private readonly ConcurrentDictionary<string, Outbox> _nodeOutboxes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Outbox> _replyOutboxes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Outbox>.AlternateLookup<ReadOnlySpan<char>> _replyOutboxLookup;
    private Outbox? _lastNodeOutbox; // see NodeOutbox
    private string? _flowReplyTo; // this node's reply subject for correlation 0: names the sender of what carries no request

    public Outboxes(BrokerProxy proxy)
    {
        _proxy = proxy;
        _replyOutboxLookup = _replyOutboxes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The outbox of a peer's inbox, made on first use.</summary>
    /// <remarks>
    /// The last one found answers first, by reference: most frames go where the one before went, and a node name that
    /// came from the wire is interned, so this spares a dictionary lookup per frame. It is written only on a change (a
    /// line every sender wrote would bounce between cores).
    /// </remarks>
    public Outbox NodeOutbox(string node)
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
        string subject = $"{_proxy.Link.Prefix}.node.{node}";
        return _nodeOutboxes.GetOrAdd(node, _ =>
        {
            var outbox = new Outbox(subject, $"node {node}", PublishSegment, SegmentFailed, _proxy.Options.MaxFrameBytes, _proxy.FlushGuard) { Node = node };
            outbox.EnableFlow(_proxy.Flow, _proxy.Options.FlowWindow, _proxy.Options.MaxPendingBytesPerNode);
            return outbox;
        });
    }

    /// <summary>The outbox of a peer's inbox if this node has sent it anything; for its flow reports.</summary>
    public Outbox? FindNodeOutbox(string node) => _nodeOutboxes.GetValueOrDefault(node);

    /// <summary>The outboxes of the peers' inboxes; for the flow tick.</summary>
    public ICollection<Outbox> NodeOutboxes => _nodeOutboxes.Values;

    /// <summary>
    /// The outbox of a peer's replies when <paramref name="replyTo"/> is a Tether reply subject
    /// (<c>tether.{cluster}.reply.{node}.{correlation}</c>); null for any other subject (a foreign client's inbox).
    /// </summary>
    public Outbox? ReplyOutbox(string replyTo, out long correlation)
    {
        correlation = 0;
        string head = _proxy.Link.ReplyHead; // "tether.{cluster}.reply."
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
        return _replyOutboxes.GetOrAdd(key, k => new Outbox(k + ".batch", $"replies to {k}", PublishSegment, SegmentFailed, _proxy.Options.MaxFrameBytes, _proxy.FlushGuard, replyBase: k + "."));
    }

    /// <summary>Publishes a segment of an outbox: a lone frame as itself, several as one batch frame.</summary>
    private ValueTask PublishSegment(Outbox outbox, Outbox.Segment segment)
    {
        List<Outbox.Item> items = segment.Items;
        Interlocked.Add(ref _proxy.Hot.Sent, items.Count);
        Interlocked.Increment(ref _proxy.Hot.Published);
        if (items.Count == 1)
        {
            // Alone it needs the subjects' text: a reply's subject and a request's reply subject are made only now.
            Outbox.Item item = items[0];
            string subject = item.Subject ?? outbox.ReplyBase + item.Correlation.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string? replyTo = item.ReplyTo ?? (item.Pending is not null ? _proxy.Link.ReplyPrefix + item.Correlation.ToString(System.Globalization.CultureInfo.InvariantCulture) : FlowReplyTo(outbox));
            return _proxy.Link.Nats.PublishAsync(subject, segment.FrameOf(item), replyTo: replyTo);
        }

        string? batchReplyTo = FlowReplyTo(outbox);
        if (segment.HasRequests)
        {
            // The batch's own reply subject: "no responders" (or a rejection of the whole batch) fails its requests.
            long batch = Interlocked.Increment(ref _proxy.Hot.NextBatch);
            foreach (Outbox.Item item in items)
            {
                if (item.Pending is { } pending)
                {
                    pending.Batch = batch;
                }
            }

            batchReplyTo = _proxy.Link.ReplyPrefix + (-batch).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return _proxy.Link.Nats.PublishAsync(outbox.BatchSubject, segment.AsBatch(), replyTo: batchReplyTo);
    }

    /// <summary>
    /// For a peer's inbox, a reply subject of this node (correlation 0: nobody waits, an answer to it is dropped) on what
    /// carries no request of its own, so the peer knows whose frames it counts (see <see cref="FlowControl"/>); an older
    /// peer ignores it.
    /// </summary>
    private string? FlowReplyTo(Outbox outbox) => outbox.Node is null ? null : _flowReplyTo ??= _proxy.Link.ReplyPrefix + "0";

    private void SegmentFailed(Outbox outbox, Outbox.Segment segment, Exception ex)
    {
        foreach (Outbox.Item item in segment.Items)
        {
            if (item.Pending is { } pending && _proxy.Replies.Pending.TryRemove(item.Correlation, out _))
            {
                pending.Sink.TryFail(new TetherException(ErrorCodes.NodeUnreachable, $"{pending.Sink.Describe()}: the broker connection failed: {ex.Message}", ex));
            }
        }
    }
}
