using Tether.Internal;

namespace Tether;

public sealed partial class Node
{
    private RemoteWatches? _watches;

    /// <summary>The watches of targets on other nodes held here (created on first use).</summary>
    internal RemoteWatches Watches
    {
        get
        {
            RemoteWatches? watches = Volatile.Read(ref _watches);
            return watches ?? Interlocked.CompareExchange(ref _watches, new RemoteWatches(this), null) ?? _watches!;
        }
    }

    /// <summary>Targets on other nodes watched from this node: one transport registration each, however many local watchers.</summary>
    internal int RemoteWatchCount => Volatile.Read(ref _watches)?.Count ?? 0;

    /// <summary>
    /// Another node (<paramref name="watcherNode"/>) wants to learn when <paramref name="target"/>, a target of this node,
    /// ends: the target reports its end through the transport (<see cref="RemoteTransport.ReportEnded"/>), at once when it
    /// is gone already.
    /// </summary>
    internal void WatchedFrom(string watcherNode, Address target)
    {
        if (FindLocal(target) is { } cell)
        {
            cell.PostSystem(new EndWatch(null, null, watcherNode));
        }
        else
        {
            Remote?.ReportEnded(watcherNode, new Address(target.Node, target.Id), "no such target");
        }
    }

    /// <summary>The node <paramref name="watcherNode"/> no longer watches <paramref name="target"/>.</summary>
    internal void UnwatchedFrom(string watcherNode, Address target)
    {
        if (FindLocal(target) is { } cell)
        {
            cell.PostSystem(new EndUnwatch(null, watcherNode));
        }
    }

    /// <summary>A target on another node that this node watches ended: its local watchers learn it.</summary>
    internal void RemoteTargetEnded(Address target, string reason) => Volatile.Read(ref _watches)?.Ended(target, reason);

    /// <summary>The node <paramref name="node"/> said goodbye: the watches of its targets fire ("node X stopped").</summary>
    internal int WatchedNodeStopped(string node) => Volatile.Read(ref _watches)?.NodeLost(node, $"node {node} stopped") ?? 0;

    /// <summary>A watching target ended: its watches go (a remote one's registration with its last local watcher).</summary>
    internal void WatcherEnded(TargetCell watcher, HashSet<Address> watching)
    {
        foreach (Address target in watching)
        {
            if (FindLocal(target) is { } cell)
            {
                cell.PostSystem(new EndUnwatch(watcher));
            }
            else if (IsRemote(target))
            {
                Volatile.Read(ref _watches)?.Unwatch(watcher, target);
            }
        }

        watching.Clear();
    }
}
