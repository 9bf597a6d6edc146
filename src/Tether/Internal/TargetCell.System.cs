namespace Tether.Internal;

// System messages: continuations, end signals, tether and lease news, session verdicts and watches. They share the
// inbox with user messages, run on the target's own turn in arrival order, and are not counted by the bound.
internal sealed partial class TargetCell
{
    private void HandleSystem(Envelope envelope)
    {
        switch (envelope.Payload)
        {
            case Continuation continuation:
                if (IsAlive)
                {
                    RunTurn(continuation);
                }

                break;
            case EndSignal end:
                if (end.Trusted || end.RequestedBy.IsNone || end.RequestedBy == Owner || end.RequestedBy == Address)
                {
                    EndNow(end.Reason);
                }
                else
                {
                    Log.EndRefused(Node.Logger, Address, end.RequestedBy, Owner);
                }

                break;
            case ChildAdded added:
                if (IsAlive)
                {
                    (Extras.Children ??= []).Add(added.Child);
                }
                else if (added.Child.TetherPolicy is { EndWhenOwnerEnds: true })
                {
                    added.Child.PostSystem(new EndSignal("owner ended", Address, Trusted: true));
                }

                break;
            case RemoteChildAdded remote:
                if (IsAlive)
                {
                    (Extras.RemoteChildren ??= []).Add(remote.Child);
                    if (Table.Find(typeof(TargetEnded)) is not null)
                    {
                        Watch(remote.Child); // an owner learns of a remote instance's end as of a local one's
                    }
                }
                else
                {
                    Node.Remote?.End(Address, remote.Child, "owner ended", ownerEnded: true);
                }

                break;
            case ChildEnded ended:
                _extras?.Children?.Remove(ended.Child);
                if (IsAlive && Table.Find(typeof(TargetEnded)) is { } onEnded)
                {
                    Run(onEnded, new Envelope(Category.Send, ended.Child.Address, new TargetEnded(ended.Child.Address, ended.Reason), null), null);
                }

                break;
            case LeaseRenewal:
                if (IsAlive && _tie?.Policy.Lease is { } lease && _extras is not null)
                {
                    _extras.LeaseExpiry = Node.TimeProvider.GetTimestamp() + ToTicks(lease);
                }

                break;
            case LeaseCheck:
                CheckLease();
                break;
            case SessionVerified verified:
                Resume(verified.Sender, verified.Verdict);
                break;
            case EndWatch watch:
                if (IsAlive)
                {
                    (Extras.Watchers ??= []).Add(watch);
                }
                else
                {
                    NotifyEnded(watch, _extras?.EndReason ?? "ended");
                }

                break;
            case EndUnwatch unwatch:
                _extras?.Watchers?.RemoveAll(w => w.Watcher == unwatch.Watcher && w.WatcherNode == unwatch.WatcherNode);
                break;
            case WatchedEnded watched:
                if (IsAlive && _extras?.Watching?.Remove(watched.Target) == true && Table.Find(typeof(TargetEnded)) is { } onWatched)
                {
                    Run(onWatched, new Envelope(Category.Send, watched.Target, new TargetEnded(watched.Target, watched.Reason), null), null);
                }

                break;
            default:
                break;
        }
    }
}
