namespace Tether.Hosting;

/// <summary>A node's settings from configuration (section <c>Tether</c>): what <see cref="NodeOptions"/> and the broker take.</summary>
public sealed class TetherOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string Section = "Tether";

    /// <summary>The node's name (letters, digits, '-' and '_' when it joins NATS); unique in its cluster. Empty picks one.</summary>
    public string? Name { get; set; }

    /// <summary>The deadline of a request that names none.</summary>
    public TimeSpan DefaultRequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The mailbox capacity of targets that name none.</summary>
    public int DefaultMailboxCapacity { get; set; } = 10_000;

    /// <summary>NATS settings; with no <see cref="TetherNatsOptions.Url"/> the node runs embedded.</summary>
    public TetherNatsOptions Nats { get; set; } = new();
}

/// <summary>The broker settings of <see cref="TetherOptions"/>.</summary>
public sealed class TetherNatsOptions
{
    /// <summary>NATS server URLs, comma-separated; empty for an embedded node.</summary>
    public string? Url { get; set; }

    /// <summary>The Tether cluster name.</summary>
    public string Cluster { get; set; } = "default";

    /// <summary>User name.</summary>
    public string? User { get; set; }

    /// <summary>Password.</summary>
    public string? Password { get; set; }

    /// <summary>Token.</summary>
    public string? Token { get; set; }

    /// <summary>Credentials file.</summary>
    public string? CredsFile { get; set; }

    /// <summary>Nkey seed file.</summary>
    public string? NKeyFile { get; set; }

    /// <summary>Require TLS.</summary>
    public bool Tls { get; set; }

    /// <summary>CA file for TLS.</summary>
    public string? TlsCaFile { get; set; }

    /// <summary>Heartbeat period.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The JetStream domain of durable topics (the hub's domain when the node sits behind a leaf-node sidecar).</summary>
    public string? JetStreamDomain { get; set; }

    /// <summary>Silence after which a peer is declared unreachable.</summary>
    public TimeSpan FailureTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
