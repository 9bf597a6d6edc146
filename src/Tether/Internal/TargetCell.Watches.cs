namespace Tether.Internal;

// Watches: who learns of this target's end, and which ends this target waits to learn of.
internal sealed partial class TargetCell
{
    /// <summary>Starts watching <paramref name="target"/> (from this target's own handler): its end arrives once as <see cref="TargetEnded"/>.</summary>
    public void Watch(Address target)
    {
        if (Table.Find(typeof(TargetEnded)) is null)
        {
            throw new InvalidOperationException(
                $"{Table.TargetTypeName} watches {target} but wires no input channel for TargetEnded; add .On<TargetEnded>(...) to its Wire.");
        }

        if (!(Extras.Watching ??= []).Add(target))
        {
            return; // already watched: the end arrives once
        }

        if (Node.FindLocal(target) is { } cell)
        {
            cell.PostSystem(new EndWatch(this, null));
        }
        else if (Node.IsRemote(target) && Node.Remote is { } remote)
        {
            Node.Watches.Watch(this, target, remote); // its end comes back as a WatchedEnded (RemoteWatches)
        }
        else
        {
            PostSystem(new WatchedEnded(target, "no such target"));
        }
    }

    /// <summary>Stops watching <paramref name="target"/>; an end already on its way is not delivered.</summary>
    public void Unwatch(Address target)
    {
        if (_extras?.Watching?.Remove(target) != true)
        {
            return;
        }

        if (Node.FindLocal(target) is { } cell)
        {
            cell.PostSystem(new EndUnwatch(this));
        }
        else if (Node.IsRemote(target))
        {
            Node.Watches.Unwatch(this, target);
        }
    }

    private void NotifyEnded(EndWatch watch, string reason)
    {
        watch.Waiter?.TrySetResult();
        watch.Watcher?.PostSystem(new WatchedEnded(Address, reason));
        if (watch.WatcherNode is { } node)
        {
            Node.Remote?.ReportEnded(node, new Address(Node.Name, Id), reason);
        }
    }
}
