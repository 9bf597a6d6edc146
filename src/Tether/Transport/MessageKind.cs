namespace Tether.Transport;

/// <summary>What a message crossing nodes is: the categories a transport carries (answers travel through <see cref="ReplySink"/>).</summary>
public enum MessageKind : byte
{
    /// <summary>A message that wants no answer.</summary>
    Send = 0,

    /// <summary>A request: it comes with a <see cref="ReplySink"/> that takes its outcome.</summary>
    Request = 1,

    /// <summary>An event published to a topic.</summary>
    Event = 2,
}
