namespace Tether.Internal;

/// <summary>A sink that wants no answer: the target of a plain send that reached a request channel.</summary>
internal sealed class DiscardSink : ReplySink
{
    public override bool ExpectsAnswer => false;

    public override string Describe() => "a message that wanted no answer";

    protected override void OnResponse(object? value)
    {
    }

    protected override void OnError(TetherException error)
    {
    }
}
