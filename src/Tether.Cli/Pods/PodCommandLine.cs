namespace Tether.Cli.Pods;

/// <summary>
/// THE place where a pod's node command line and environment are built, for Kubernetes and for the local pods alike
/// (so the two cannot drift). Point <see cref="DefaultImageModules"/> (Kubernetes) or the local <c>--module</c> at the
/// application's module assembly.
/// </summary>
internal static class PodCommandLine
{
    /// <summary>Where the node finds its NATS server: the leaf-node sidecar in the same pod (network namespace).</summary>
    public const string NatsUrl = "nats://127.0.0.1:4222";

    /// <summary>The port of the node's health and metrics listener (<c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>).</summary>
    public const int HealthPort = 8081;

    /// <summary>The port the web role serves its page on.</summary>
    public const int WebPort = 8080;

    /// <summary>The hub's JetStream domain: nodes behind a leaf sidecar reach durable topics through it.</summary>
    public const string JetStreamDomain = "hub";

    /// <summary>The Tether cluster name every layout uses.</summary>
    public const string Cluster = "tether";

    /// <summary>The module assemblies inside the application image (deploy/Dockerfile puts them there).</summary>
    public static readonly IReadOnlyList<string> DefaultImageModules = ["/app/modules/Tether.Demo.dll"];

    /// <summary>The demo's data folder inside a Kubernetes pod (its writable <c>/tmp</c> volume): the supplier's and the session manager's SQLite files.</summary>
    public const string ImageDataFolder = "/tmp/tether-demo";

    /// <summary>
    /// The configuration every pod of every layout shares (in Kubernetes: the ConfigMap <c>tether-config</c>). A layout
    /// changes only which roles a pod runs, never this.
    /// </summary>
    public static IReadOnlyDictionary<string, string> SharedEnvironment { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["Tether__Nats__Url"] = NatsUrl,
        ["Tether__Nats__Cluster"] = Cluster,
        ["Tether__Nats__HeartbeatInterval"] = "00:00:00.5",
        ["Tether__Nats__FailureTimeout"] = "00:00:02",
        ["Tether__Nats__JetStreamDomain"] = JetStreamDomain,
        ["Tether__Http"] = $"0.0.0.0:{HealthPort}",
        ["Tether__Nats__DurableTopics"] = string.Join(',', Tether.Demo.DemoApp.DurableTopics.Order(StringComparer.Ordinal)),
        ["Tether__Nats__DurableTopicReplicas"] = "3",
        ["Tether__Demo__WebPort"] = WebPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Tether__Demo__ListenAddress"] = "0.0.0.0",
    };

    /// <summary>
    /// The node process of <paramref name="pod"/>: arguments after the <c>tether</c> executable, the shared environment
    /// and the pod's own (its roles; its data folder; its name when <paramref name="nodeName"/> is given — Kubernetes
    /// takes the pod's name instead). The data folder is a place on the pod's host: <see cref="ImageDataFolder"/> in
    /// Kubernetes, the run's folder for the local pods.
    /// </summary>
    public static PodProcess Build(PodSpec pod, IReadOnlyList<string> modules, string? nodeName, string dataFolder = ImageDataFolder)
    {
        List<string> args = ["node"];
        foreach (string module in modules)
        {
            args.Add("--module");
            args.Add(module);
        }

        var own = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["Tether__Demo__Roles"] = string.Join(',', pod.Roles),
            ["Tether__Demo__DataFolder"] = dataFolder,
        };
        if (nodeName is not null)
        {
            own["Tether__Name"] = nodeName;
        }

        return new PodProcess(args, SharedEnvironment, own);
    }
}

/// <summary>A pod's node process: <c>tether ARGS</c> with the shared and the pod's own environment.</summary>
internal sealed record PodProcess(IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> SharedEnvironment, IReadOnlyDictionary<string, string> PodEnvironment);
