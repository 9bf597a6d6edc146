using MessagePack;
using MessagePack.Formatters;

namespace Tether.Nats.Internal;

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
