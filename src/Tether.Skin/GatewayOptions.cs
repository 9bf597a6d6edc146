using System.Text.Json;

namespace Tether.Skin;

/// <summary>How the HTTP gateway (<c>app.MapTether(...)</c>) turns HTTP requests into Tether requests.</summary>
public sealed record GatewayOptions
{
    /// <summary>The contracts accepted; a contract name not listed is answered 404.</summary>
    public GatewayContracts Contracts { get; init; } = new();

    /// <summary>The deadline of each request; null takes the node's <see cref="NodeOptions.DefaultRequestTimeout"/>. A request that times out is answered 504.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How bodies and answers are read and written. Default: System.Text.Json's web defaults (camelCase, case-insensitive).</summary>
    public JsonSerializerOptions? Json { get; init; }

    /// <summary>The largest body accepted, in bytes; a larger one is answered 413. Default 1 MiB.</summary>
    public int MaxBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>The title of the OpenAPI document.</summary>
    public string Title { get; init; } = "Tether gateway";
}
