namespace Tether.Internal;

/// <summary>An envelope's category. The first three are <see cref="MessageKind"/>'s values: a transport's kind is a cast, no mapping.</summary>
internal enum Category : byte
{
    Send = MessageKind.Send,
    Request = MessageKind.Request,
    Event = MessageKind.Event,
    System,
}
