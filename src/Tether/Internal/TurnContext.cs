namespace Tether.Internal;

/// <summary>
/// Installed while an asynchronous handler runs, so each continuation after an await is posted back to the
/// target's mailbox as a turn of its own. This is what keeps "one handler at a time" true across awaits.
/// </summary>
internal sealed class TurnContext(TargetCell cell) : SynchronizationContext
{
    public override void Post(SendOrPostCallback d, object? state) => cell.PostSystem(new Continuation(d, state));

    public override void Send(SendOrPostCallback d, object? state)
        => throw new NotSupportedException("A target's turn context does not run work synchronously; await instead.");

    public override SynchronizationContext CreateCopy() => this;
}
