namespace Tether.Demo;

/// <summary>What <see cref="DemoApp.Start"/> started on a node.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="Roles">The roles it runs.</param>
/// <param name="Supplier">The supplier's address, or <see cref="Address.None"/> when the node is not a supplier.</param>
/// <param name="OrderDesk">The order desk's address, or <see cref="Address.None"/>.</param>
/// <param name="Started">One line per thing started, for people (a CLI prints them).</param>
public sealed record DemoServices(string Node, DemoRoles Roles, Address Supplier, Address OrderDesk, IReadOnlyList<string> Started);
