using MessagePack;
using MessagePack.Formatters;

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
