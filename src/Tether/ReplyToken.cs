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

    internal ReplyToken(ReplySink sink, Address requester)
    {
        _sink = sink;
        Requester = requester;
    }

    /// <summary>Who asked (<see cref="Address.None"/> when the request came from outside any target).</summary>
    public Address Requester { get; }

    /// <summary>True once an answer, an error or a timeout has ended the request.</summary>
    public bool IsAnswered => _sink.IsCompleted;

    /// <summary>Answers the request. Returns false, and changes nothing, when the request already ended.</summary>
    public bool TryReply(T value) => _sink.TryComplete(value);

    /// <summary>Answers the request.</summary>
    /// <exception cref="TetherException">Code <see cref="ErrorCodes.AlreadyAnswered"/>: the request already ended (answered, failed or timed out).</exception>
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
