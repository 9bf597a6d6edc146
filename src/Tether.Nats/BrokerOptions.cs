namespace Tether.Nats;

/// <summary>How a node's broker proxy reaches NATS and watches its peers. Checked by <see cref="BrokerProxy.AttachAsync"/>.</summary>
public sealed record BrokerOptions
{
    /// <summary>The defaults: a local server, cluster "default", heartbeats every 0.5 s, a peer declared gone after 2 s.</summary>
    public static BrokerOptions Default { get; } = new();

    /// <summary>NATS server URLs, comma-separated (for example <c>nats://127.0.0.1:4222</c>).</summary>
    public string Url { get; init; } = "nats://127.0.0.1:4222";

    /// <summary>The Tether cluster name: the second token of every subject, so clusters can share a broker.</summary>
    public string Cluster { get; init; } = "default";

    /// <summary>User name for user/password authentication.</summary>
    public string? User { get; init; }

    /// <summary>Password for user/password authentication.</summary>
    public string? Password { get; init; }

    /// <summary>Token authentication.</summary>
    public string? Token { get; init; }

    /// <summary>Path of a NATS credentials file (JWT + nkey seed).</summary>
    public string? CredsFile { get; init; }

    /// <summary>
    /// Path of an nkey seed file (a user seed, <c>SU...</c>): the node signs the server's challenge with it, on both of
    /// its connections. The seed is read when the node connects and never logged; the server knows only the public key
    /// (<c>authorization { users = [ { nkey: U... } ] }</c>).
    /// </summary>
    public string? NKeyFile { get; init; }

    /// <summary>Require TLS to the server.</summary>
    public bool Tls { get; init; }

    /// <summary>CA certificate file for TLS (PEM); needs <see cref="Tls"/> = true.</summary>
    public string? TlsCaFile { get; init; }

    /// <summary>How often this node says it is alive.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A peer silent for this long is declared unreachable: its pending requests fail and the instances it owns here end.</summary>
    public TimeSpan FailureTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The largest frame accepted from the wire; larger ones are rejected, counted and answered with an error.</summary>
    public int MaxFrameBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// Flow control of messages to another node: at most this many frames are on their way to one node before it says
    /// it has taken them into its mailboxes (it does so in batches, as it drains them). A frame without credit waits in
    /// this node's outbox for that node (see <see cref="MaxPendingBytesPerNode"/>). At least 64.
    /// </summary>
    public int FlowWindow { get; init; } = 16 * 1024;

    /// <summary>
    /// How many bytes of frames may wait in this node for one other node (for credit, or for the connection) before a
    /// further send to it is dropped and counted (<see cref="BrokerStatistics.SendsDropped"/>) and a further request to
    /// it fails at once with <see cref="ErrorCodes.MailboxFull"/>. At least 64 KiB.
    /// </summary>
    public int MaxPendingBytesPerNode { get; init; } = 64 * 1024 * 1024;

    /// <summary>The share of service requests sent to a random instance instead of the fastest, so a recovered instance is found again (0 to 0.5).</summary>
    public double Exploration { get; init; } = 0.1;

    /// <summary>
    /// Topics kept on JetStream: the latest event of each is stored, and a subscriber that joins later gets it first
    /// (event-carried state transfer). Needs JetStream on the server; every node should name the same topics.
    /// </summary>
    public IReadOnlySet<string> DurableTopics { get; init; } = new HashSet<string>();

    /// <summary>
    /// How many servers of the NATS cluster keep the durable topics' stream (1 to 5). With 1, losing the server that
    /// holds it makes durable topics unavailable until it returns; on a three-server cluster use 3, so the stream
    /// survives the loss of any one server.
    /// </summary>
    public int DurableTopicReplicas { get; init; } = 1;

    /// <summary>
    /// The JetStream domain of the durable topics' stream, or null for the server's own. A node behind a leaf-node
    /// sidecar without JetStream reaches the hub's JetStream through its domain (the hub's <c>jetstream { domain: ... }</c>).
    /// </summary>
    public string? JetStreamDomain { get; init; }

    /// <summary>
    /// The message contracts this node may send and receive over the wire: pass the node's one registry
    /// (<c>Contracts = node.Contracts</c>), so that one registration serves the wire and the adapters alike. Unset, it
    /// is a registry of its own that holds only the runtime's contracts.
    /// </summary>
    public ContractRegistry Contracts { get; init; } = new();

    internal void Validate(string nodeName)
    {
        if (string.IsNullOrWhiteSpace(Url))
        {
            throw new ArgumentException("BrokerOptions.Url must name at least one NATS server.");
        }

        if (Names.WhyNotToken(Cluster, "BrokerOptions.Cluster") is { } cluster)
        {
            throw new ArgumentException(cluster);
        }

        if (Names.WhyNotToken(nodeName, "The node name (NodeOptions.Name)") is { } node)
        {
            throw new ArgumentException($"{node} It cannot be used over NATS.");
        }

        if (HeartbeatInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"BrokerOptions.HeartbeatInterval must be positive; it is {HeartbeatInterval}.");
        }

        if (FailureTimeout <= HeartbeatInterval)
        {
            throw new ArgumentException($"BrokerOptions.FailureTimeout ({FailureTimeout}) must be longer than HeartbeatInterval ({HeartbeatInterval}).");
        }

        if (DurableTopicReplicas is < 1 or > 5)
        {
            throw new ArgumentException($"BrokerOptions.DurableTopicReplicas must be from 1 to 5 (JetStream's limit); it is {DurableTopicReplicas}.");
        }

        if (MaxFrameBytes < 1024)
        {
            throw new ArgumentException($"BrokerOptions.MaxFrameBytes must be at least 1024; it is {MaxFrameBytes}.");
        }

        if (FlowWindow < 64)
        {
            throw new ArgumentException($"BrokerOptions.FlowWindow must be at least 64 frames; it is {FlowWindow}.");
        }

        if (MaxPendingBytesPerNode < 64 * 1024)
        {
            throw new ArgumentException($"BrokerOptions.MaxPendingBytesPerNode must be at least 65536 (64 KiB); it is {MaxPendingBytesPerNode}.");
        }

        if (User is not null && Password is null)
        {
            throw new ArgumentException("BrokerOptions.User is set but Password is not.");
        }

        foreach (string? file in new[] { CredsFile, NKeyFile, TlsCaFile })
        {
            if (file is not null && !File.Exists(file))
            {
                throw new ArgumentException($"The file \"{file}\" named in BrokerOptions does not exist.");
            }
        }

        if (NKeyFile is not null && !File.ReadLines(NKeyFile).Any(l => l.TrimStart().StartsWith("SU", StringComparison.Ordinal)))
        {
            // Only the file is named: its contents are a secret and never go into a message or a log.
            throw new ArgumentException($"BrokerOptions.NKeyFile (\"{NKeyFile}\") holds no nkey user seed (a line starting with SU, as `nk -gen user` writes it).");
        }

        if (TlsCaFile is not null && !Tls)
        {
            // NATS.Net would still switch to TLS for a server that requires it, but without this CA: a certificate error later.
            throw new ArgumentException($"BrokerOptions.TlsCaFile (\"{TlsCaFile}\") is set but BrokerOptions.Tls is false: set Tls = true to use it.");
        }

        if (Exploration is < 0 or > 0.5 || double.IsNaN(Exploration))
        {
            throw new ArgumentException($"BrokerOptions.Exploration must be between 0 and 0.5; it is {Exploration}.");
        }

        ArgumentNullException.ThrowIfNull(Contracts, "BrokerOptions.Contracts");
    }

    /// <summary>The runtime's one token rule (<see cref="Names.IsToken"/>), kept here for the proxy's own callers.</summary>
    internal static bool IsToken(string? text) => Names.IsToken(text);
}
