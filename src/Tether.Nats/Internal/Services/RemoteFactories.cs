using Tether.Transport;

namespace Tether.Nats.Internal;

/// <summary>
/// Remote factories: a create sent to a factory's queue group (any node serving it takes it, and tells the creator it
/// did), and creates that arrive here made by the local factory for an owner on another node.
/// </summary>
internal sealed class RemoteFactories(BrokerProxy proxy)
{
    private readonly BrokerProxy _proxy = proxy;

    public ValueTask<Address> Create(Address owner, string service, object? argument, TetherPolicy tether, TimeSpan timeout)
    {
        if (!BrokerOptions.IsToken(service))
        {
            return ValueTask.FromException<Address>(new TetherException(ErrorCodes.BadRequest, $"The service name \"{service}\" cannot be used over NATS: use letters, digits, '-' and '_' only."));
        }

        PayloadCodec? argumentCodec = null;
        if (argument is not null && !_proxy.Codecs.TryGetByType(argument.GetType(), out argumentCodec))
        {
            return ValueTask.FromException<Address>(new TetherException(ErrorCodes.BadRequest, $"The factory argument's type {argument.GetType().Name} is not a registered contract."));
        }

        ValueTask<Address> outcome = _proxy.NodeHost.NewRequest<Address>(typeof(CreateRequest), service, timeout, out ReplySink pending);
        Frame frame = new()
        {
            Kind = FrameKind.Create,
            SenderNode = owner.Node,
            SenderId = owner.Id,
            Contract = service,
            ErrorText = argumentCodec?.Contract,
            Flag = (tether.EndWhenOwnerEnds ? 1L : 0L) | (tether.EndWhenOwnerNodeUnreachable ? 2L : 0L) | ((long)(tether.Lease?.TotalMilliseconds ?? 0) << 2),
        };
        long correlation = Interlocked.Increment(ref _proxy.Hot.NextCorrelation);
        _proxy.Replies.Pending[correlation] = new PendingRemote(pending, $"service {service}", service, default, isCreate: true);
        _proxy.Link.Publish($"{_proxy.Link.Prefix}.svc.{service}", frame.Encode(argumentCodec, argument), _proxy.Link.ReplyPrefix + correlation, correlation);
        return outcome;
    }

    public void OnCreate(Incoming msg, Frame frame, int payloadAt)
    {
        if (frame.Contract is null || msg.ReplyTo is null)
        {
            _proxy.Inbound.BadFrame(msg, "a service subject takes create frames with a reply subject only");
            return;
        }

        object? argument = null;
        if (frame.ErrorText is { } argumentContract)
        {
            if (!_proxy.Codecs.TryGetByName(argumentContract, out PayloadCodec? codec))
            {
                _proxy.Inbound.BadFrame(msg, $"the factory argument's contract \"{argumentContract}\" is not registered on node {_proxy.NodeName}");
                return;
            }

            argument = Frame.ReadPayload(msg.Data, payloadAt, codec);
        }

        long leaseMs = frame.Flag >> 2;
        var tether = new TetherPolicy
        {
            EndWhenOwnerEnds = (frame.Flag & 1) != 0,
            EndWhenOwnerNodeUnreachable = (frame.Flag & 2) != 0,
            Lease = leaseMs > 0 ? TimeSpan.FromMilliseconds(leaseMs) : null,
        };
        _proxy.Replies.SendAccepted(msg.ReplyTo); // the creator watches this node from now on
        _ = CreateForRemoteOwner(frame.Sender, frame.Contract, argument, tether, msg.ReplyTo);
    }

    private async Task CreateForRemoteOwner(Address owner, string service, object? argument, TetherPolicy tether, string replyTo)
    {
        try
        {
            Address instance = await _proxy.NodeHost.CreateLocal(owner, service, argument, tether, timeout: null).ConfigureAwait(false);
            _proxy.Replies.SendResponse(replyTo, instance);
        }
        catch (TetherException ex)
        {
            _proxy.Replies.SendError(replyTo, ex.Code, ex.Message);
        }
    }

    /// <summary>Names a remote create in errors.</summary>
    private sealed class CreateRequest;
}
