using Microsoft.Extensions.Configuration;
using Tether.Hosting.Internal;
using Tether.Nats;

namespace Tether.Hosting;

/// <summary>
/// A hosted node's settings: the library's own option records, composed, bound from configuration (section
/// <c>Tether</c>) by <see cref="Bind"/>. Every setting is listed in <see cref="Settings"/> with its key, its
/// <c>tether node</c> flag and what it means.
/// </summary>
/// <example>
/// <code>
/// { "Tether": { "Name": "orders-1", "DefaultRequestTimeout": "10s",
///               "Adapters": { "Specs": [ "contracts" ] },
///               "Nats": { "Url": "nats://127.0.0.1:4222", "DurableTopics": [ "prices" ], "FailureTimeout": "3s" } } }
/// </code>
/// </example>
public sealed record TetherOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string Section = "Tether";

    /// <summary>The node's options (<c>Tether:Name</c>, <c>Tether:DefaultRequestTimeout</c>, ...).</summary>
    public NodeOptions Node { get; init; } = new();

    /// <summary>The broker proxy's options (<c>Tether:Nats:*</c>); null (no <c>Tether:Nats:Url</c>) runs the node embedded.</summary>
    public BrokerOptions? Nats { get; init; }

    /// <summary>
    /// Spec files or directories of the node's message contracts (<c>Tether:Adapters:Specs</c>), read when the node is
    /// created; message types are found in the node's contract registry, which the modules fill first.
    /// </summary>
    public IReadOnlyList<string> AdapterSpecs { get; init; } = [];

    /// <summary>Skip specs whose message type this node has not registered (<c>Tether:Adapters:AllowUnregisteredContracts</c>).</summary>
    public bool AllowUnregisteredContracts { get; init; }

    /// <summary>
    /// Where <c>tether node</c> serves <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c> (<c>Tether:Http</c>, HOST:PORT), or
    /// null for none. A host of your own maps its own endpoints; this is for the command.
    /// </summary>
    public string? Http { get; init; }

    /// <summary>The default of <see cref="ShutdownTimeout"/>: 10 s.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// When the host stops (SIGTERM, Ctrl+C), how long the node's in-flight work may drain before the node goes
    /// (<c>Tether:ShutdownTimeout</c>, <c>--shutdown-timeout</c>): targets finish their current turns, peers are told the
    /// node stopped, the broker connection closes. The stop never takes longer, also when the NATS server is already gone.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = DefaultShutdownTimeout;

    /// <summary>Every setting that configuration can hold, in the order they are documented.</summary>
    public static IReadOnlyList<TetherSetting> Settings => OptionsBinder.Settings;

    /// <summary>
    /// Binds the <c>Tether</c> section of <paramref name="configuration"/> (appsettings.json, <c>Tether__*</c> variables,
    /// command-line flags: whatever the configuration holds) onto the defaults.
    /// </summary>
    /// <exception cref="InvalidOperationException">A value is not valid, or a key is unknown; the message lists every problem, each naming its key.</exception>
    public static TetherOptions Bind(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return OptionsBinder.Bind(configuration.GetSection(Section));
    }
}
