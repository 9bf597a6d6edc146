namespace Tether.Nats.Internal;

/// <summary>The reply obligation of a request that came over the wire: its outcome is published to the requester's reply subject.</summary>
/// <remarks>The description is built only when asked for (errors, logs): the hot path allocates no text.</remarks>
internal sealed class RemoteReplySink : Tether.Internal.ReplySink
{
    private readonly BrokerProxy _proxy;
    private readonly string? _description;
    private readonly string? _contract;
    private readonly Address _sender;

    public RemoteReplySink(BrokerProxy proxy, string replyTo, string description)
    {
        _proxy = proxy;
        ReplyTo = replyTo;
        _description = description;
    }

    public RemoteReplySink(BrokerProxy proxy, string replyTo, string? contract, Address sender)
    {
        _proxy = proxy;
        ReplyTo = replyTo;
        _contract = contract;
        _sender = sender;
    }

    public string ReplyTo { get; }

    public override string Describe() => _description ?? $"{_contract} from {_sender}";

    protected override void OnResponse(object? value) => _proxy.SendResponse(ReplyTo, value);

    protected override void OnError(TetherException error) => _proxy.SendError(ReplyTo, error.Code, error.Message);
}
