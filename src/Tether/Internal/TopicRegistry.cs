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
        lock (subscribers)
        {
            if (Array.IndexOf(subscribers.Cells, cell) >= 0)
            {
                return;
            }

            subscribers.Cells = [.. subscribers.Cells, cell];
        }

        cell.AddTopic(topic);
    }

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

    public int Publish(Address sender, string topic, object @event, ActivityContext trace)
    {
        ValidateName(topic);
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
