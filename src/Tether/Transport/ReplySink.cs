using Tether.Internal;

namespace Tether.Transport;

/// <summary>
/// The one place a request's outcome goes: the requester's pending task, or, for a request that came from another node,
/// the way back to it. The first of response, error or timeout wins; every later attempt returns false and is reported to
/// whoever tried it, never to the requester.
/// </summary>
/// <remarks>
/// A transport receives sinks with the requests it carries (<see cref="RemoteTransport.Deliver"/>) and completes them
/// when the answer comes back; it hands the core a sink of its own (a subclass) with each request it delivers from the
/// wire, and sends the answer back when the core completes it.
/// </remarks>
public abstract class ReplySink
{
    private int _done;

    /// <summary>True once the request has its outcome.</summary>
    public bool IsCompleted => Volatile.Read(ref _done) != 0;

    /// <summary>False for a sink that wants no answer (a plain send that reached a request channel): a transport need not carry it.</summary>
    public virtual bool ExpectsAnswer => true;

    /// <summary>Names the request in error texts: "GetCount to node/12".</summary>
    /// <returns>A short description of the request.</returns>
    public abstract string Describe();

    /// <summary>The sink a reply token answers through: for a transport that carries the token to another node.</summary>
    /// <typeparam name="T">The type of the answer.</typeparam>
    /// <param name="token">The token.</param>
    /// <returns>Its sink.</returns>
    public static ReplySink Of<T>(ReplyToken<T> token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token.Sink;
    }

    /// <summary>A reply token that answers through this sink: for a transport that reads a token from the wire.</summary>
    /// <typeparam name="T">The type of the answer.</typeparam>
    /// <param name="requester">Who asked (<see cref="Address.None"/> when unknown).</param>
    /// <returns>The token.</returns>
    public ReplyToken<T> AsToken<T>(Address requester) => new(this, requester);

    /// <summary>Completes with <paramref name="value"/>; false when the request already had its outcome.</summary>
    /// <param name="value">The answer.</param>
    /// <returns>Whether this completion won.</returns>
    public bool TryComplete(object? value)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return false;
        }

        OnResponse(value);
        return true;
    }

    /// <summary>
    /// Completes with <paramref name="value"/> on this thread: a continuation awaiting it from outside any target runs
    /// here, at once, instead of being queued (a transport that completes a batch of answers in one work item uses it,
    /// inside a <see cref="RunScope"/>, so the awaiting callers run in one go and what they send next leaves together).
    /// </summary>
    /// <param name="value">The answer.</param>
    /// <returns>Whether this completion won.</returns>
    public bool TryCompleteHere(object? value)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return false;
        }

        OnResponseHere(value);
        return true;
    }

    /// <summary>
    /// Completes with a typed answer: a sink that awaits exactly this type takes it without boxing (an int answer
    /// allocates nothing); any other sink gets it as an object.
    /// </summary>
    /// <typeparam name="TValue">The answer's type.</typeparam>
    /// <param name="value">The answer.</param>
    /// <returns>Whether this completion won.</returns>
    public bool TryCompleteTyped<TValue>(TValue value)
    {
        if (this is not ITypedReply<TValue> typed)
        {
            return TryComplete(value);
        }

        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return false;
        }

        typed.OnTypedResponse(value);
        return true;
    }

    /// <summary>Ends the request with <paramref name="error"/>; false when it already had its outcome.</summary>
    /// <param name="error">The error the requester gets.</param>
    /// <returns>Whether this completion won.</returns>
    public bool TryFail(TetherException error)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return false;
        }

        OnError(error);
        return true;
    }

    /// <summary>Takes the answer (called once, by the winning completion).</summary>
    /// <param name="value">The answer.</param>
    protected abstract void OnResponse(object? value);

    /// <summary>As <see cref="OnResponse"/>, on a thread where an awaiting continuation may run inline.</summary>
    /// <param name="value">The answer.</param>
    protected virtual void OnResponseHere(object? value) => OnResponse(value);

    /// <summary>Takes the error (called once, by the winning completion).</summary>
    /// <param name="error">The error.</param>
    protected abstract void OnError(TetherException error);
}
