using System.Collections.Concurrent;
using System.Diagnostics;

namespace Tether.Internal;

/// <summary>Local publish/subscribe: each topic keeps a copy-on-write array of subscribers, so publishing takes no lock.</summary>
internal sealed class TopicRegistry(Node node)
{
    private readonly ConcurrentDictionary<string, Subscribers> _topics = new(StringComparer.Ordinal);

    public void Subscribe(TargetCell cell, string topic)
    {
        ValidateName(topic);
        Subscribers subscribers = _topics.GetOrAdd(topic, static _ => new Subscribers());
        bool first;
        lock (subscribers)
        {
            if (Array.IndexOf(subscribers.Cells, cell) >= 0)
            {
                return;
            }

            first = subscribers.Cells.Length == 0;
            subscribers.Cells = [.. subscribers.Cells, cell];
        }

        cell.AddTopic(topic);
        node.Remote?.TopicSubscribed(topic, cell.Address, first);
    }

    /// <summary>The topics with at least one local subscriber.</summary>
    public IEnumerable<string> Active => _topics.Where(t => t.Value.Cells.Length > 0).Select(t => t.Key);

    public void Unsubscribe(TargetCell cell, string topic)
    {
        if (!_topics.TryGetValue(topic, out Subscribers? subscribers))
        {
            return;
        }

        lock (subscribers)
        {
            subscribers.Cells = Array.FindAll(subscribers.Cells, c => c != cell);
        }

        cell.RemoveTopic(topic);
    }

    /// <summary>Publishes to local subscribers and, with a broker proxy, to every other node's.</summary>
    public int Publish(Address sender, string topic, object @event, ActivityContext trace)
    {
        ValidateName(topic);
        int local = PublishLocal(sender, topic, @event, trace);
        node.Remote?.Publish(sender, topic, @event, trace); // may refuse (unregistered contract): after local delivery
        return local;
    }

    /// <summary>Publishes to this node's subscribers only (an event that came over the wire).</summary>
    public int PublishLocal(Address sender, string topic, object @event, ActivityContext trace)
    {
        if (!_topics.TryGetValue(topic, out Subscribers? subscribers))
        {
            return 0;
        }

        TargetCell[] cells = subscribers.Cells;
        foreach (TargetCell cell in cells)
        {
            node.DeliverTo(cell, sender, @event, Category.Event, null, trace);
        }

        return cells.Length;
    }

    private static void ValidateName(string topic)
    {
        if (string.IsNullOrWhiteSpace(topic))
        {
            throw new ArgumentException("A topic name must not be empty.", nameof(topic));
        }
    }

    private sealed class Subscribers
    {
        public TargetCell[] Cells = [];
    }
}
