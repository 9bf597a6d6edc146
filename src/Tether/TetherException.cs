namespace Tether;

/// <summary>
/// The error outcome of a request, or of an operation the runtime refused. <see cref="Code"/> is a stable,
/// machine-readable code (see <see cref="ErrorCodes"/> for the runtime's own); <see cref="Exception.Message"/> is for people.
/// </summary>
/// <remarks>
/// A handler may throw a <see cref="TetherException"/> with a code of its own: the requester receives that
/// code and text unchanged. Any other exception thrown by a handler reaches the requester as
/// <see cref="ErrorCodes.HandlerFailed"/>.
/// </remarks>
public class TetherException : Exception
{
    /// <summary>Creates an error with a code and a text.</summary>
    public TetherException(string code, string message)
        : base(message)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        Code = code;
    }

    /// <summary>Creates an error with a code, a text and the exception that caused it.</summary>
    public TetherException(string code, string message, Exception? innerException)
        : base(message, innerException)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        Code = code;
    }

    /// <summary>The stable error code.</summary>
    public string Code { get; }

    /// <inheritdoc />
    public override string ToString() => $"[{Code}] {Message}";
}
