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

    /// <summary>Spawns targets, registers services and factories on the started node.</summary>
    void Start(Node node);
}
