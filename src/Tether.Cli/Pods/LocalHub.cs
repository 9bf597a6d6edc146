namespace Tether.Cli.Pods;

/// <summary>A hub server of a local run.</summary>
internal sealed class LocalHub(string name, string ns, string address, string veth, string config, string log)
{
    public string Name { get; } = name;

    public string Namespace { get; } = ns;

    public string Address { get; } = address;

    public string Veth { get; } = veth;

    public string Config { get; } = config;

    public string Log { get; } = log;

    public int Pid { get; set; }
}
