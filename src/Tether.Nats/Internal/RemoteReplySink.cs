namespace Tether.Nats.Internal;

/// <summary>The reply obligation of a request that came over the wire: its outcome is published to the requester's reply subject.</summary>
internal sealed class RemoteReplySink(BrokerProxy proxy, string replyTo, string description) : Tether.Internal.ReplySink
{
    public string ReplyTo => replyTo;

    public override string Describe() => description;

    protected override void OnResponse(object? value) => proxy.SendResponse(replyTo, value);

    protected override void OnError(TetherException error) => proxy.SendError(replyTo, error.Code, error.Message);
}
