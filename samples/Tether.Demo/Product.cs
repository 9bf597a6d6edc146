namespace Tether.Demo;

/// <summary>One product of the catalogue, as the supplier reads it from the database.</summary>
/// <param name="Id">The product id (positive).</param>
/// <param name="Name">The product's name.</param>
/// <param name="Category">The category it is listed under.</param>
/// <param name="Price">The unit price.</param>
/// <param name="Stock">How many are in stock now.</param>
public sealed record Product(long Id, string Name, string Category, decimal Price, int Stock);
