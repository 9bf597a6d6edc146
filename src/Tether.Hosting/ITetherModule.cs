using Tether.Nats;

namespace Tether.Hosting;

/// <summary>
/// A unit of application code a node hosts: it registers the message contracts it sends over the wire and starts
/// its targets, services and factories. <c>tether node --module PATH</c> loads every public module of an assembly;
/// in code, add one with <c>AddTetherModule&lt;T&gt;()</c>. Modules are created through DI.
/// </summary>
public interface ITetherModule
{
    /// <summary>
    /// Registers the contracts this module's messages travel under, on the node's one registry (called when the node is
    /// created, before its adapters are built and its broker proxy attaches). <c>contracts.RegisterAssembly(GetType().Assembly)</c>
    /// registers every <see cref="ContractAttribute"/> type of the module's assembly.
    /// </summary>
    void RegisterContracts(ContractRegistry contracts)
    {
    }

    /// <summary>
    /// Changes the options the node is created with (called once, after <see cref="RegisterContracts"/>): for example
    /// its message adapters or its session verifier. The default keeps them.
    /// </summary>
    NodeOptions ConfigureNode(NodeOptions options) => options;

    /// <summary>Spawns targets, registers services and factories on the started node.</summary>
    void Start(Node node);

    /// <summary>
    /// Starts the module on the started node, its broker proxy attached (null for an embedded node); the node is ready
    /// once every module's start has ended. The default calls <see cref="Start"/>; override it for asynchronous work
    /// (opening a store, starting a web server).
    /// </summary>
    Task StartAsync(Node node, BrokerProxy? broker, CancellationToken cancellation)
    {
        Start(node);
        return Task.CompletedTask;
    }

    /// <summary>Stops what <see cref="StartAsync"/> started, before the node stops (called in the reverse order of the start). The default does nothing.</summary>
    Task StopAsync(CancellationToken cancellation) => Task.CompletedTask;
}
