using MessagePack;
using MessagePack.Resolvers;

namespace Tether.Nats.Internal;

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
