using Tether.Internal;

namespace Tether;

/// <summary>
/// The obligation to answer one request, taken by a <see cref="Channels{TSelf}.Deferred{TRequest, TResponse}"/> handler.
/// It may be handed to any target (inside a message, for instance to a working target). Exactly one answer
/// wins; if nobody answers before the request's deadline, the requester gets a <see cref="ErrorCodes.Timeout"/> error.
/// </summary>
/// <typeparam name="T">The type of the answer.</typeparam>
public sealed class ReplyToken<T>
{
    private readonly ReplySink _sink;
    private readonly TargetCell? _responder;

    internal ReplyToken(ReplySink sink, Address requester, TargetCell? responder = null)
    {
        _sink = sink;
        Requester = requester;
        _responder = responder;
    }

    /// <summary>Where the answer goes (for a broker proxy that carries the token to another node).</summary>
    internal ReplySink Sink => _sink;

    /// <summary>Who asked (<see cref="Address.None"/> when the request came from outside any target).</summary>
    public Address Requester { get; }

    /// <summary>True once an answer, an error or a timeout has ended the request.</summary>
    public bool IsAnswered => _sink.IsCompleted;

    /// <summary>Answers the request. Returns false, and changes nothing, when the request already ended.</summary>
    /// <remarks>
    /// The answer meets the postconditions of the output channel of the target type that took the request (even when
    /// another target answers). An answer that breaks one is not delivered: the requester gets the
    /// <see cref="ErrorCodes.ContractViolation"/> error instead, and it is thrown here too.
    /// </remarks>
    /// <exception cref="ContractViolationException">The answer breaks a postcondition; the request has ended with this error.</exception>
    public bool TryReply(T value)
    {
        if (_responder is not { HasAdapters: true } responder)
        {
            return _sink.TryCompleteTyped(value);
        }

        object? adapted;
        try
        {
            adapted = responder.AdaptOutbound(value);
        }
        catch (TetherException ex)
        {
            _sink.TryFail(ex);
            throw;
        }

        return _sink.TryComplete(adapted);
    }

    /// <summary>Answers the request.</summary>
    /// <exception cref="TetherException">Code <see cref="ErrorCodes.AlreadyAnswered"/>: the request already ended (answered, failed or timed out);
    /// or code <see cref="ErrorCodes.ContractViolation"/>: the answer breaks a postcondition (see <see cref="TryReply"/>).</exception>
    public void Reply(T value)
    {
        if (!TryReply(value))
        {
            throw AlreadyAnswered();
        }
    }

    /// <summary>Ends the request with an error. Returns false when the request already ended.</summary>
    public bool TryFail(string code, string message) => _sink.TryFail(new TetherException(code, message));

    /// <summary>Ends the request with an error.</summary>
    /// <exception cref="TetherException">Code <see cref="ErrorCodes.AlreadyAnswered"/>: the request already ended.</exception>
    public void Fail(string code, string message)
    {
        if (!TryFail(code, message))
        {
            throw AlreadyAnswered();
        }
    }

    private TetherException AlreadyAnswered()
        => new(ErrorCodes.AlreadyAnswered, $"The request ({_sink.Describe()}) already has its outcome; this second answer was not delivered.");
}
