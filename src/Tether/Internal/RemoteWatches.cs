using Tether.Transport;

namespace Tether.Internal;

/// <summary>
/// The watching node's side of watches across nodes: which local targets (<see cref="Context.Watch"/>) and tasks
/// (<see cref="Node.EndAsync"/>) wait for the end of which target on another node. However many local watchers a target
/// has, the transport carries one registration for it (<see cref="RemoteTransport.Watch"/> for the first,
/// <see cref="RemoteTransport.Unwatch"/> when the last one leaves), and one end notice back, which fires every local
/// watcher once (<see cref="Ended"/>). A lost or stopped node fires the watches of its targets (<see cref="NodeLost"/>).
/// </summary>
/// <remarks>
/// Invariant: an entry exists exactly while the transport holds a registration for its target (it was asked to watch and
/// neither unwatch nor an end has been seen since). Every change happens under <see cref="_lock"/>; the transport is called
/// and watchers are told outside it, so a transport that answers at once (the target is already gone) re-enters safely.
/// </remarks>
internal sealed class RemoteWatches(Node node)
{
    private readonly Node _node = node;
    private readonly Lock _lock = new();
    private readonly Dictionary<Address, Entry> _entries = [];

    /// <summary>Targets on other nodes watched from here (for tests and statistics).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary><paramref name="watcher"/> (a local target) learns of <paramref name="target"/>'s end as a <see cref="WatchedEnded"/>.</summary>
    public void Watch(TargetCell watcher, Address target, RemoteTransport remote)
    {
        target = Key(target);
        bool first;
        lock (_lock)
        {
            first = Add(target, out Entry entry);
            (entry.Watchers ??= []).Add(watcher);
        }

        if (first)
        {
            remote.Watch(target);
        }
    }

    /// <summary>A task that completes when <paramref name="target"/> has ended (or its node is lost).</summary>
    public Task WhenEnded(Address target, RemoteTransport remote)
    {
        target = Key(target);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool first;
        lock (_lock)
        {
            first = Add(target, out Entry entry);
            (entry.Waiters ??= []).Add(ended);
        }

        if (first)
        {
            remote.Watch(target);
        }

        return ended.Task;
    }

    /// <summary><paramref name="watcher"/> no longer watches <paramref name="target"/>: the registration goes with the last watcher.</summary>
    public void Unwatch(TargetCell watcher, Address target)
    {
        target = Key(target);
        bool last;
        lock (_lock)
        {
            if (!_entries.TryGetValue(target, out Entry? entry) || entry.Watchers?.Remove(watcher) != true)
            {
                return;
            }

            last = entry.IsEmpty && _entries.Remove(target);
        }

        if (last)
        {
            _node.Remote?.Unwatch(target);
        }
    }

    /// <summary>The transport reports that <paramref name="target"/> ended: every local watcher learns it, once.</summary>
    public void Ended(Address target, string reason)
    {
        Entry? entry;
        lock (_lock)
        {
            if (!_entries.Remove(Key(target), out entry))
            {
                return; // unwatched meanwhile, or told already
            }
        }

        Fire(target, entry, reason);
    }

    /// <summary>The node <paramref name="lost"/> is lost or stopped: the watches of its targets fire with <paramref name="reason"/>.</summary>
    /// <returns>How many targets' watches fired.</returns>
    public int NodeLost(string lost, string reason)
    {
        List<(Address Target, Entry Entry)> fired = [];
        lock (_lock)
        {
            foreach ((Address target, Entry entry) in _entries)
            {
                if (string.Equals(target.Node, lost, StringComparison.Ordinal))
                {
                    fired.Add((target, entry));
                }
            }

            foreach ((Address target, _) in fired)
            {
                _entries.Remove(target);
            }
        }

        foreach ((Address target, Entry entry) in fired)
        {
            Fire(target, entry, reason);
        }

        return fired.Count;
    }

    private bool Add(Address target, out Entry entry)
    {
        if (_entries.TryGetValue(target, out Entry? existing))
        {
            entry = existing;
            return false;
        }

        entry = new Entry();
        _entries.Add(target, entry);
        return true;
    }

    private static void Fire(Address target, Entry entry, string reason)
    {
        if (entry.Watchers is { } watchers)
        {
            foreach (TargetCell watcher in watchers)
            {
                watcher.PostSystem(new WatchedEnded(target, reason));
            }
        }

        if (entry.Waiters is { } waiters)
        {
            foreach (TaskCompletionSource waiter in waiters)
            {
                waiter.TrySetResult();
            }
        }
    }

    /// <summary>The address without a cell reference: entries are looked up by node and id alone.</summary>
    private static Address Key(Address target) => new(target.Node, target.Id);

    private sealed class Entry
    {
        public HashSet<TargetCell>? Watchers;
        public List<TaskCompletionSource>? Waiters;

        public bool IsEmpty => Watchers is not { Count: > 0 } && Waiters is not { Count: > 0 };
    }
}
