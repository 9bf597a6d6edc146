namespace Tether.Demo;

/// <summary>The answer to <see cref="GetSupplierStatus"/>.</summary>
/// <param name="Node">The node the answering supplier runs on.</param>
/// <param name="Database">The kind of database and where it is (a file path, or a PostgreSQL host and database; never a password).</param>
/// <param name="Products">How many products the catalogue holds.</param>
/// <param name="Orders">How many orders were recorded.</param>
public sealed record SupplierStatus(string Node, string Database, int Products, long Orders);
