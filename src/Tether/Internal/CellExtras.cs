namespace Tether.Internal;

/// <summary>Rarely used target state, created on first need so an idle plain target stays small.</summary>
internal sealed class CellExtras
{
    public Address Owner;
    public TargetCell? OwnerCell;
    public TetherPolicy? Tether;
    public HashSet<TargetCell>? Children;
    public HashSet<Address>? RemoteChildren;
    public List<TimerHandle>? Timers;
    public TurnContext? Turn;
    public List<string>? Topics;
    public List<string>? Services;
    public HashSet<Envelope>? InFlight;
    public long LeaseExpiry;
    public ITimer? LeaseTimer;
}
