using System.Text.Json;
using Tether.Skin.Internal;

namespace Tether.Skin;

/// <summary>
/// The contracts the HTTP gateway accepts: a contract name (the last segment of <c>POST /api/{service}/{contract}</c>)
/// → the request type its JSON body is read as and the response type its answer is written from. Only these are ever
/// deserialized. This is the gateway's one lookup of contract names.
/// </summary>
public sealed class GatewayContracts
{
    private readonly Dictionary<string, GatewayContract> _byName = new(StringComparer.Ordinal);

    /// <summary>Accepts <typeparamref name="TRequest"/> under <paramref name="contract"/>, answered with <typeparamref name="TResponse"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty, not a name token, or already taken.</exception>
    public GatewayContracts Add<TRequest, TResponse>(string contract)
        where TRequest : IRequest<TResponse>
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(contract);
        if (!GatewayContract.IsNameToken(contract))
        {
            throw new ArgumentException($"The contract name \"{contract}\" must be letters, digits, '.', '-' or '_'.", nameof(contract));
        }

        if (!_byName.TryAdd(contract, new GatewayContract<TRequest, TResponse>(contract)))
        {
            throw new ArgumentException($"The gateway already accepts a contract named \"{contract}\".", nameof(contract));
        }

        return this;
    }

    /// <summary>The contract names accepted, in order of name.</summary>
    public IEnumerable<string> Names => _byName.Keys.Order(StringComparer.Ordinal);

    internal bool TryGet(string name, out GatewayContract contract) => _byName.TryGetValue(name, out contract!);

    internal IEnumerable<GatewayContract> All => _byName.Values.OrderBy(c => c.Name, StringComparer.Ordinal);

    internal static JsonSerializerOptions DefaultJson { get; } = new(JsonSerializerDefaults.Web);
}
