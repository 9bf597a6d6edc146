namespace Tether.Nats.Internal;

/// <summary>The reply obligation of a request that came over the wire: its outcome is published to the requester's reply subject.</summary>
/// <remarks>
/// The description is built only when asked for (errors, logs): the hot path allocates no text. A request that came
/// inside a batch knows its requester's reply outbox and correlation, and builds the reply subject's text only if it
/// must travel on (a forwarded reply token) or the answer goes out alone.
/// </remarks>
internal sealed class RemoteReplySink : Tether.Transport.ReplySink
{
    private readonly Replies _replies;
    private readonly string? _description;
    private readonly string? _contract;
    private readonly Address _sender;
    private readonly Outbox? _outbox;
    private readonly long _correlation;
    private string? _replyTo;

    /// <summary>A reply token that came inside a message, <paramref name="hops"/> node-to-node passes from its requester.</summary>
    public RemoteReplySink(Replies replies, string replyTo, string description, int hops)
    {
        _replies = replies;
        _replyTo = replyTo;
        _description = description;
        Hops = hops;
    }

    public RemoteReplySink(Replies replies, string replyTo, string? contract, Address sender)
    {
        _replies = replies;
        _replyTo = replyTo;
        _contract = contract;
        _sender = sender;
    }

    /// <summary>A request from a batch: answered through the requester's reply outbox, to <paramref name="correlation"/>.</summary>
    public RemoteReplySink(Replies replies, Outbox requester, long correlation, string? contract, Address sender)
    {
        _replies = replies;
        _outbox = requester;
        _correlation = correlation;
        _contract = contract;
        _sender = sender;
    }

    /// <summary>How many node-to-node passes the obligation made from the requester's node to this one (1 for a request that came itself).</summary>
    public int Hops { get; } = 1;

    /// <summary>The requester's reply subject (<c>tether.{cluster}.reply.{node}.{correlation}</c> for a Tether requester).</summary>
    public string ReplyTo => _replyTo ??= _outbox!.ReplyBase + _correlation.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override string Describe() => _description ?? $"{_contract} from {_sender}";

    protected override void OnResponse(object? value)
    {
        if (_outbox is not null)
        {
            _replies.SendResponse(_outbox, _correlation, null, value);
            return;
        }

        _replies.SendResponse(ReplyTo, value);
    }

    protected override void OnError(TetherException error)
    {
        if (_outbox is not null)
        {
            _replies.SendError(_outbox, _correlation, null, error.Code, error.Message);
            return;
        }

        _replies.SendError(ReplyTo, error.Code, error.Message);
    }
}
