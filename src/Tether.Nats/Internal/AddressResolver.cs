using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;
using Tether.Transport;

namespace Tether.Nats.Internal;

/// <summary>Writes an <see cref="Address"/> as [node, id]; addresses travel inside messages.</summary>
internal sealed class AddressFormatter : IMessagePackFormatter<Address>
{
    public static readonly AddressFormatter Instance = new();

    public void Serialize(ref MessagePackWriter writer, Address value, MessagePackSerializerOptions options)
    {
        if (value.IsNone)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(2);
        writer.Write(value.Node);
        writer.Write(value.Id);
    }

    public Address Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return default;
        }

        if (reader.ReadArrayHeader() != 2)
        {
            throw new MessagePackSerializationException("An address must be [node, id].");
        }

        string? node = reader.ReadString();
        long id = reader.ReadInt64();
        if (!BrokerOptions.IsToken(node) || id <= 0)
        {
            throw new MessagePackSerializationException("An address must name a node (letters, digits, '-', '_') and a positive id.");
        }

        return new Address(node!, id);
    }
}

internal static class WireSerializer
{
    /// <summary>
    /// Contractless records and classes (public members by name), addresses, and reply tokens (which need the proxy
    /// that carries them); untrusted-data security limits depth and hash-flooding. No typeless resolver: a CLR type
    /// name from the wire is never honoured.
    /// </summary>
    public static MessagePackSerializerOptions For(BrokerProxy proxy) => MessagePackSerializerOptions.Standard
        .WithResolver(CompositeResolver.Create([AddressFormatter.Instance], [new ReplyTokenResolver(proxy), StandardResolver.Instance, ContractlessStandardResolver.Instance]))
        .WithSecurity(MessagePackSecurity.UntrustedData);
}

/// <summary>Finds the formatter of <see cref="ReplyToken{T}"/> for any T; built once per T.</summary>
internal sealed class ReplyTokenResolver(BrokerProxy proxy) : IFormatterResolver
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Type, object?> _formatters = new();

    public IMessagePackFormatter<T>? GetFormatter<T>()
        => (IMessagePackFormatter<T>?)_formatters.GetOrAdd(typeof(T), static (type, proxy) =>
            type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ReplyToken<>)
                ? Activator.CreateInstance(typeof(ReplyTokenFormatter<>).MakeGenericType(type.GetGenericArguments()[0]), proxy)
                : null, proxy);
}

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

        return new RemoteReplySink(proxy, replyTo, description, hops).AsToken<T>(requester);
    }
}
