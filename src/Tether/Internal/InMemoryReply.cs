namespace Tether.Internal;

/// <summary>A request in flight on an <see cref="InMemoryNetwork"/>: its outcome goes to the requester's sink, and it fails if its holder is lost.</summary>
internal sealed class InMemoryReply(ReplySink inner, InMemoryTransport requester, string holder) : ReplySink
{
    public ReplySink Inner { get; } = inner;

    /// <summary>The node the request was delivered to.</summary>
    public string Holder { get; } = holder;

    public override string Describe() => Inner.Describe();

    protected override void OnResponse(object? value)
    {
        requester.Forget(this);
        Inner.TryComplete(value);
    }

    protected override void OnError(TetherException error)
    {
        requester.Forget(this);
        Inner.TryFail(error);
    }
}
