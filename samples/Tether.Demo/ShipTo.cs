namespace Tether.Demo;

/// <summary>Where an order goes. Contract <c>demo.ship-to</c> (samples/Tether.Demo/contracts/orders.yaml): every field is required, with its length and pattern.</summary>
/// <param name="Name">The recipient (2 to 80 characters).</param>
/// <param name="Street">Street and number (3 to 100 characters).</param>
/// <param name="City">The city (2 to 60 characters).</param>
/// <param name="PostalCode">The postal code: 3 to 10 letters, digits, spaces or '-'.</param>
/// <param name="Country">An ISO 3166 two-letter country code in capitals, such as <c>DE</c>.</param>
public sealed record ShipTo(string? Name, string? Street, string? City, string? PostalCode, string? Country);
