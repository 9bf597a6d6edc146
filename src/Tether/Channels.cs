using Tether.Internal;

namespace Tether;

/// <summary>
/// Declares the input channels of a target type in <see cref="ITarget{TSelf}.Wire"/>: one handler per message type.
/// Handlers receive the target instance, the message and a <see cref="Context"/>; write them as static lambdas.
/// </summary>
/// <typeparam name="TSelf">The target type.</typeparam>
public sealed class Channels<TSelf>
    where TSelf : Target
{
    private readonly List<ChannelHandler> _handlers = [];

    internal Channels()
    {
    }

    internal IReadOnlyList<ChannelHandler> Handlers => _handlers;

    /// <summary>Handles sends and events of type <typeparamref name="TMessage"/>; runs to completion without yielding.</summary>
    public Channels<TSelf> On<TMessage>(Action<TSelf, TMessage, Context> handler)
        where TMessage : notnull
        => Add(new SendHandler<TSelf, TMessage>(NotNull(handler)));

    /// <summary>
    /// Handles sends and events of type <typeparamref name="TMessage"/> with an asynchronous handler. At each await other
    /// messages may run (turn-based re-entry); the code after the await runs as a later turn, never beside another handler.
    /// </summary>
    public Channels<TSelf> OnAsync<TMessage>(Func<TSelf, TMessage, Context, ValueTask> handler)
        where TMessage : notnull
        => Add(new AsyncSendHandler<TSelf, TMessage>(NotNull(handler)));

    /// <summary>Answers requests of type <typeparamref name="TRequest"/> with the handler's return value.</summary>
    public Channels<TSelf> Request<TRequest, TResponse>(Func<TSelf, TRequest, Context, TResponse> handler)
        where TRequest : IRequest<TResponse>
        => Add(new RequestHandler<TSelf, TRequest, TResponse>(NotNull(handler)));

    /// <summary>Answers requests of type <typeparamref name="TRequest"/> asynchronously (turn-based, as <see cref="OnAsync{TMessage}"/>).</summary>
    public Channels<TSelf> RequestAsync<TRequest, TResponse>(Func<TSelf, TRequest, Context, ValueTask<TResponse>> handler)
        where TRequest : IRequest<TResponse>
        => Add(new AsyncRequestHandler<TSelf, TRequest, TResponse>(NotNull(handler)));

    /// <summary>
    /// Takes requests of type <typeparamref name="TRequest"/> with a deferred reply: the handler gets the reply
    /// obligation as a <see cref="ReplyToken{T}"/>, may hand it to another target (typically a working target) and returns.
    /// </summary>
    public Channels<TSelf> Deferred<TRequest, TResponse>(Action<TSelf, TRequest, ReplyToken<TResponse>, Context> handler)
        where TRequest : IRequest<TResponse>
        => Add(new DeferredHandler<TSelf, TRequest, TResponse>(NotNull(handler)));

    /// <summary>
    /// Protects the input channel wired just before: its messages must carry a session (see <see cref="Context.Session"/>)
    /// that holds <paramref name="right"/>. The mailbox verifies with <see cref="NodeOptions.Sessions"/> before the handler
    /// runs: a token verified on this node already costs no round trip; otherwise the message is parked while the session
    /// manager is asked, and the target goes on with other messages (one sender's parked messages under one session keep their order). A
    /// refused message never reaches the handler: a request fails with <see cref="ErrorCodes.Unauthenticated"/>,
    /// <see cref="ErrorCodes.Forbidden"/>, <see cref="ErrorCodes.SessionExpired"/> or <see cref="ErrorCodes.SessionRevoked"/>;
    /// a send or event is dropped and counted.
    /// </summary>
    /// <exception cref="InvalidOperationException">No channel was wired before, or it already requires a right.</exception>
    public Channels<TSelf> Requires(string right)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(right);
        if (_handlers.Count == 0)
        {
            throw new InvalidOperationException($"{typeof(TSelf).Name}: Requires(\"{right}\") must follow the input channel it protects.");
        }

        ChannelHandler last = _handlers[^1];
        if (last.RequiredRight is not null)
        {
            throw new InvalidOperationException(
                $"{typeof(TSelf).Name}: the channel for {last.MessageType.Name} already requires \"{last.RequiredRight}\"; a channel requires one right.");
        }

        last.RequiredRight = right;
        return this;
    }

    private Channels<TSelf> Add(ChannelHandler handler)
    {
        if (_handlers.Exists(h => h.MessageType == handler.MessageType))
        {
            throw new InvalidOperationException(
                $"{typeof(TSelf).Name} wires two input channels for {handler.MessageType.Name}; a message type has one handler per target type.");
        }

        _handlers.Add(handler);
        return this;
    }

    private static T NotNull<T>(T handler)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        return handler;
    }
}
