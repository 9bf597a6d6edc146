using Tether.Internal;

namespace Tether;

/// <summary>
/// The base of every target: a lightweight object with its own state and a mailbox, addressed by an
/// <see cref="Address"/>, that handles one message at a time. Concrete targets also implement
/// <see cref="ITarget{TSelf}"/> to wire their input channels.
/// </summary>
/// <remarks>
/// <para><b>Turns.</b> A synchronous handler runs alone from start to end. An asynchronous handler
/// (<see cref="Channels{TSelf}.OnAsync{TMessage}"/>, <see cref="Channels{TSelf}.RequestAsync{TRequest, TResponse}"/>) runs alone
/// until its first <c>await</c> that does not complete at once; the mailbox then goes on with other messages, and
/// the code after the await runs later as a turn of its own, still never beside another handler. So a call
/// chain A → B → A cannot deadlock: while A awaits B, A's mailbox takes B's request. The price is that
/// state may change across an await; read what you need before it. Awaiting with
/// <c>ConfigureAwait(false)</c> leaves the turn and is not allowed to touch target state.</para>
/// <para><b>Order.</b> Messages from one sender to one receiver start in the order they were sent.</para>
/// <para><b>Never block a handler on another target.</b> Targets woken by a handler start when its run of messages
/// ends (a burst is then handled in one run of its receiver), so a handler that waits synchronously
/// (<c>.Result</c>, <c>.Wait()</c>, a lock held for an answer) for a target it just messaged waits until its request
/// times out. Await instead: that is what turns are for.</para>
/// </remarks>
public abstract class Target
{
    internal TargetCell? Cell;

    /// <summary>This target's address, or <see cref="Address.None"/> before it is spawned.</summary>
    public Address Self => Cell?.Address ?? default;

    /// <summary>The owner this target is tethered to, or <see cref="Address.None"/>.</summary>
    public Address Owner => Cell?.Owner ?? default;

    /// <summary>A context for use outside handlers (in <see cref="OnStarted"/> or timers' set-up); it has no sender.</summary>
    protected Context Context => new(Cell ?? throw new InvalidOperationException("This target has not been spawned yet."), default);

    /// <summary>
    /// Runs once when the target is spawned (and again on a fresh instance after a restart), before any message,
    /// under the mailbox's exclusivity. An exception here makes the spawn fail.
    /// </summary>
    protected internal virtual void OnStarted(Context context)
    {
    }

    /// <summary>Runs once when the target ends, after its tethered instances were told to end and its timers stopped.</summary>
    protected internal virtual void OnEnded(Context context, string reason)
    {
    }
}
