namespace Tether.Cli.Pods;

/// <summary>A pod of a local run.</summary>
internal sealed class LocalPod(string name, IReadOnlyList<string> roles, string ns, string address, string veth, string leafLog, string nodeLog, string nodeName)
{
    public string Name { get; } = name;

    public IReadOnlyList<string> Roles { get; } = roles;

    public string Namespace { get; } = ns;

    public string Address { get; } = address;

    /// <summary>The bridge-side end of the pod's link (in the bridge's namespace).</summary>
    public string Veth { get; } = veth;

    public string LeafLog { get; } = leafLog;

    public string NodeLog { get; } = nodeLog;

    public string NodeName { get; } = nodeName;

    public int LeafPid { get; set; }

    public int NodePid { get; set; }
}
