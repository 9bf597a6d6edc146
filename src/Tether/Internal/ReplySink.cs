namespace Tether.Internal;

/// <summary>
/// The one place a request's outcome goes. The first of response, error or timeout wins; every later
/// attempt returns false and is reported to whoever tried it, never to the requester.
/// </summary>
internal abstract class ReplySink
{
    private int _done;

    public bool IsCompleted => Volatile.Read(ref _done) != 0;

    /// <summary>Names the request in error texts: "GetCount to node/12".</summary>
    public abstract string Describe();

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
    /// so the awaiting callers run in one go and what they send next leaves together).
    /// </summary>
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

    public bool TryFail(TetherException error)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return false;
        }

        OnError(error);
        return true;
    }

    protected abstract void OnResponse(object? value);

    /// <summary>As <see cref="OnResponse"/>, on a thread where an awaiting continuation may run inline.</summary>
    protected virtual void OnResponseHere(object? value) => OnResponse(value);

    protected abstract void OnError(TetherException error);
}

/// <summary>A sink that can take an answer of type <typeparamref name="TValue"/> without boxing it.</summary>
internal interface ITypedReply<in TValue>
{
    void OnTypedResponse(TValue value);
}

/// <summary>A sink that wants no answer: the target of a plain send that reached a request channel.</summary>
internal sealed class DiscardSink : ReplySink
{
    public override string Describe() => "a message that wanted no answer";

    protected override void OnResponse(object? value)
    {
    }

    protected override void OnError(TetherException error)
    {
    }
}
