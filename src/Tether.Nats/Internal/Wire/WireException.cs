namespace Tether.Nats.Internal;

/// <summary>A frame that cannot be read. Counted, logged, answered when the sender is known; never fatal.</summary>
internal sealed class WireException : Exception
{
    public WireException(string message)
        : base(message)
    {
    }

    public WireException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
