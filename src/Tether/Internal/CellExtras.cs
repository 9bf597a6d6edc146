namespace Tether.Internal;

/// <summary>Rarely used target state, created on first need so an idle plain target stays small.</summary>
internal sealed class CellExtras
{
    public HashSet<TargetCell>? Children;
    public HashSet<Address>? RemoteChildren;
    public List<TimerHandle>? Timers;
    public TurnContext? Turn;
    public List<string>? Topics;
    public List<string>? Services;
    public HashSet<Envelope>? InFlight;
    public List<EndWatch>? Watchers; // who learns of this target's end (touched by this cell's consumer only)
    public HashSet<Address>? Watching; // the targets this one watches (touched by this cell's consumer only)
    public string? EndReason; // set when the target ends, for a watch that arrives afterwards
    public long LeaseExpiry;
    public ITimer? LeaseTimer;
}
