using MessagePack;
using MessagePack.Formatters;
using Tether.Transport;

namespace Tether.Nats.Internal;

/// <summary>
/// A reply token on the wire: the requester's reply subject, a description, the requester, and how many node-to-node
/// passes it has made (counting this one). Whoever holds the deserialized token answers straight to the requester's
/// node; the first answer to arrive there wins.
/// </summary>
internal sealed class ReplyTokenFormatter<T>(BrokerProxy proxy) : IMessagePackFormatter<ReplyToken<T>?>
{
    public void Serialize(ref MessagePackWriter writer, ReplyToken<T>? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(4);
        ReplySink sink = ReplySink.Of(value);
        writer.Write(proxy.ReplySubjectFor(sink));
        writer.Write(sink.Describe());
        AddressFormatter.Instance.Serialize(ref writer, value.Requester, options);
        writer.Write(sink is RemoteReplySink remote ? remote.Hops + 1 : 1);
    }

    public ReplyToken<T>? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        if (reader.ReadArrayHeader() != 4)
        {
            throw new MessagePackSerializationException("A reply token must be [replyTo, description, requester, hops].");
        }

        string replyTo = reader.ReadString() ?? throw new MessagePackSerializationException("A reply token has no reply subject.");
        string description = reader.ReadString() ?? "a forwarded request";
        Address requester = AddressFormatter.Instance.Deserialize(ref reader, options);
        int hops = reader.ReadInt32();
        if (hops < 1)
        {
            throw new MessagePackSerializationException($"A reply token's hop count must be at least 1; it is {hops}.");
        }

        if (!proxy.IsReplySubject(replyTo))
        {
            throw new MessagePackSerializationException("A reply token names a subject that is not a Tether reply subject.");
        }

        return new RemoteReplySink(proxy.Replies, replyTo, description, hops).AsToken<T>(requester);
    }
}
