using System.Text.Json;

namespace Tether.Skin.Internal;

/// <summary>One accepted contract: reads its body and sends the typed request, with no reflection per call.</summary>
internal abstract class GatewayContract(string name, Type requestType, Type responseType)
{
    public string Name { get; } = name;

    public Type RequestType { get; } = requestType;

    public Type ResponseType { get; } = responseType;

    /// <summary>Reads the body; throws <see cref="JsonException"/> when it is not this contract's JSON.</summary>
    public abstract object Read(ReadOnlySpan<byte> body, JsonSerializerOptions json);

    public abstract ValueTask<object?> Send(Node node, string service, object request, TimeSpan? timeout, string? session);

    public static bool IsNameToken(string name)
    {
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
            {
                return false;
            }
        }

        return name.Length is > 0 and <= 200;
    }
}

internal sealed class GatewayContract<TRequest, TResponse>(string name) : GatewayContract(name, typeof(TRequest), typeof(TResponse))
    where TRequest : IRequest<TResponse>
{
    public override object Read(ReadOnlySpan<byte> body, JsonSerializerOptions json)
        => JsonSerializer.Deserialize<TRequest>(body, json) ?? throw new JsonException("The body is null; a JSON object is expected.");

    public override async ValueTask<object?> Send(Node node, string service, object request, TimeSpan? timeout, string? session)
        => await node.Request<TResponse>(service, (TRequest)request, timeout, session).ConfigureAwait(false);
}
