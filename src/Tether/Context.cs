using System.Diagnostics;
using Tether.Internal;

namespace Tether;

/// <summary>
/// What a handler can do: its output channels (<see cref="Send{T}(Address, T)"/>, <see cref="Request{TResponse}(Address, IRequest{TResponse}, TimeSpan?)"/>,
/// <see cref="Publish{T}"/>), creating and ending instances, and timers. Valid for the target it was given to;
/// use it only from that target's handlers and turns.
/// </summary>
public readonly struct Context
{
    private readonly TargetCell _cell;
    private readonly Address _sender; // copied: the envelope is recycled once the handler returns, a context may live on
    private readonly string? _session; // the token the handled message carried: what this context's output channels carry on
    private readonly SessionIdentity? _identity; // verified by the mailbox of a protected channel

    internal Context(TargetCell cell, Address sender, string? session = null, SessionIdentity? identity = null)
    {
        _cell = cell;
        _sender = sender;
        _session = session;
        _identity = identity;
    }

    /// <summary>
    /// The verified session of the message being handled when its input channel is protected
    /// (<see cref="Channels{TSelf}.Requires"/>): who is acting, with which rights. Null on an open channel.
    /// </summary>
    public SessionIdentity? Session => _identity;

    /// <summary>
    /// The session token the message being handled carried, verified or not (null when it carried none). Every message this
    /// context sends or requests carries it on, across nodes, as the trace context does.
    /// </summary>
    public string? SessionToken => _session;

    /// <summary>
    /// A context whose output channels carry <paramref name="token"/> instead of the handled message's session: for a
    /// target that acts for a user it holds a token of (a browser connection after its login). Null carries none.
    /// </summary>
    public Context WithSession(string? token) => new(_cell, _sender, token, ReferenceEquals(token, _session) ? _identity : null);

    /// <summary>This target's address.</summary>
    public Address Self => _cell.Address;

    /// <summary>Who sent the message being handled (<see cref="Address.None"/> from outside any target or in a hook).</summary>
    public Address Sender => _sender;

    /// <summary>The owner this target is tethered to, or <see cref="Address.None"/>.</summary>
    public Address Owner => _cell.Owner;

    /// <summary>The node hosting this target.</summary>
    public Node Node => _cell.Node;

    /// <summary>Sends a message, fire and forget (at most once).</summary>
    /// <exception cref="ContractViolationException">The message breaks a postcondition of this target type's output channel; nothing was sent.</exception>
    public void Send<T>(Address to, T message)
        where T : notnull
    {
        // The output channel's adapters run here, before anything leaves; the receiver's run at its mailbox. A target of
        // this node is then reached on the short path (a chain within the sender's run), adapted or not; another node's
        // target goes through its transport.
        object adapted = _cell.HasPostconditions ? _cell.AdaptOutbound(message)! : message;
        if (to.Cell is { } local && _cell.Node.IsOwnName(to.Node))
        {
            _cell.Node.SendLocal(_cell, local, adapted, _session);
            return;
        }

        _cell.Node.Deliver(_cell.Address, to, adapted, Category.Send, null, CurrentTrace(), _session);
    }

    /// <summary>
    /// Sends a request; the task completes with the answer or fails with a <see cref="TetherException"/>
    /// (for example <see cref="ErrorCodes.Timeout"/> after <paramref name="timeout"/>, by default the node's).
    /// Awaited inside a handler, the code after the await runs as a later turn of this target.
    /// A request that breaks a postcondition of this target type's output channel is not sent; the task fails with
    /// <see cref="ErrorCodes.ContractViolation"/>.
    /// </summary>
    public ValueTask<TResponse> Request<TResponse>(Address to, IRequest<TResponse> request, TimeSpan? timeout = null)
        => _cell.HasAdapters ? AdaptedRequest(to, request, timeout) : _cell.Node.SendRequest(_cell.Address, to, request, timeout, _session);

    /// <summary>Publishes an event on a topic; every subscriber gets it once.</summary>
    /// <exception cref="ContractViolationException">The event breaks a postcondition of this target type's output channel; nothing was published.</exception>
    public void Publish<T>(string topic, T @event)
        where T : notnull
        => _cell.Node.Topics.Publish(_cell.Address, topic, _cell.AdaptOutbound(@event)!, CurrentTrace());

    /// <summary>Sends a message to one instance of a service (see <see cref="Node.RegisterService"/>), fire and forget.</summary>
    public void Send<T>(string service, T message)
        where T : notnull
        => _cell.Node.DeliverToService(_cell.Address, service, _cell.AdaptOutbound(message)!, Category.Send, null, CurrentTrace(), localOnly: false, _session);

    /// <summary>Sends a request to one instance of a service: a local instance when there is one, else the fastest known on another node.</summary>
    public ValueTask<TResponse> Request<TResponse>(string service, IRequest<TResponse> request, TimeSpan? timeout = null)
        => _cell.Node.SendServiceRequest(_cell.Address, service, (IRequest<TResponse>)_cell.AdaptOutbound(request)!, timeout, _session);

    /// <summary>Subscribes this target to a topic; its events arrive at the matching input channel.</summary>
    public void Subscribe(string topic) => _cell.Node.Topics.Subscribe(_cell, topic);

    /// <summary>Ends this target's subscription to a topic.</summary>
    public void Unsubscribe(string topic) => _cell.Node.Topics.Unsubscribe(_cell, topic);

    /// <summary>
    /// Spawns a target tethered to this one (by default it ends when this target ends).
    /// <paramref name="create"/> is called again for a fresh instance when the supervision policy restarts it.
    /// </summary>
    public Address Spawn<T>(Func<T> create, SpawnOptions? options = null)
        where T : Target, ITarget<T>
        => _cell.Node.SpawnCell(create, options ?? SpawnOptions.Default, _cell).Address;

    /// <summary>
    /// Asks the factory registered under <paramref name="service"/> for a new instance owned by this target,
    /// tethered by <paramref name="tether"/> (default <see cref="TetherPolicy.WithOwner"/>); completes with its address.
    /// </summary>
    public ValueTask<Address> Create(string service, object? argument = null, TetherPolicy? tether = null, TimeSpan? timeout = null)
        => _cell.Node.CreateInstance(_cell.Address, service, argument, tether ?? TetherPolicy.WithOwner, timeout);

    /// <summary>Ends an instance this target owns (or this target itself), in order after the messages sent to it before.</summary>
    public void End(Address instance) => _cell.Node.End(_cell.Address, instance, "ended by its owner");

    /// <summary>
    /// Watches <paramref name="target"/> (Akka's <c>Watch</c>), on this node or another: when it ends, this target receives
    /// <see cref="TargetEnded"/> with the reason, once, at its input channel for <see cref="TargetEnded"/> (which it must
    /// wire). A target that is already gone, or never existed, is reported at once ("no such target"). Watching twice
    /// still reports once. A target on another node is also reported when its node is lost ("node X is unreachable") or
    /// stops ("node X stopped"); the watch ends with this target.
    /// </summary>
    /// <exception cref="InvalidOperationException">This target wires no input channel for <see cref="TargetEnded"/>.</exception>
    public void Watch(Address target) => _cell.Watch(target);

    /// <summary>Stops watching <paramref name="target"/>; an end not yet delivered is not delivered.</summary>
    public void Unwatch(Address target) => _cell.Unwatch(target);

    /// <summary>Ends this target after the current turn; its tethered instances end with it.</summary>
    public void EndSelf() => _cell.PostSystem(new EndSignal("ended itself", _cell.Address));

    /// <summary>Renews the lease of an instance this target owns (see <see cref="TetherPolicy.Leased(TimeSpan)"/>).</summary>
    public void Renew(Address instance) => _cell.Node.Renew(_cell.Address, instance);

    /// <summary>Sends <paramref name="message"/> to this target once after <paramref name="delay"/>. Dispose the result to cancel; it is cancelled when the target ends.</summary>
    public IDisposable Schedule<T>(TimeSpan delay, T message)
        where T : notnull
        => _cell.AddTimer(delay, Timeout.InfiniteTimeSpan, message);

    /// <summary>Sends <paramref name="message"/> to this target every <paramref name="period"/>. Dispose the result to cancel; it is cancelled when the target ends.</summary>
    public IDisposable ScheduleEvery<T>(TimeSpan period, T message)
        where T : notnull
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        return _cell.AddTimer(period, period, message);
    }

    private ValueTask<TResponse> AdaptedRequest<TResponse>(Address to, IRequest<TResponse> request, TimeSpan? timeout)
    {
        object? adapted;
        try
        {
            adapted = _cell.AdaptOutbound(request);
        }
        catch (TetherException ex)
        {
            return ValueTask.FromException<TResponse>(ex);
        }

        if (adapted is not null and not IRequest<TResponse>)
        {
            return ValueTask.FromException<TResponse>(new TetherException(
                ErrorCodes.BadRequest,
                $"The output adapters of {_cell.Table.TargetTypeName} turned the request {request.GetType().Name} into {adapted.GetType().Name}, which is not a request for {typeof(TResponse).Name}."));
        }

        return _cell.Node.SendRequest(_cell.Address, to, (IRequest<TResponse>)adapted!, timeout, _session);
    }

    /// <summary>The cell this context belongs to (for replies, which answer through the receiving target's output channel).</summary>
    internal TargetCell Cell => _cell;

    private static ActivityContext CurrentTrace() => Telemetry.CurrentTrace();
}
