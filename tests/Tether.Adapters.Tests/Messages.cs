namespace Tether.Adapters.Tests;

public sealed record Item(string? Sku, int Quantity);

public sealed record ShippingAddress(string? Street, string? Zip);

public enum Tier
{
    Bronze,
    Silver,
    Gold,
}

/// <summary>A message with a field of every kind the rules cover.</summary>
public sealed record Order(
    string? CustomerId = "C-1",
    int Quantity = 1,
    decimal? Price = 10m,
    string? Currency = "EUR",
    DateTime Start = default,
    DateTime End = default,
    List<Item>? Items = null,
    ShippingAddress? Shipping = null,
    string? Email = "a@b.c",
    string? CardNumber = null,
    Tier Tier = Tier.Bronze,
    int[]? Scores = null) : IRequest<string>;

public sealed record PlaceOrderV1(string? Customer_Id, string? Qty, string? Placed, string? Note) : IRequest<string>;

public sealed record PlaceOrderV2(string CustomerId, int Quantity, DateTime PlacedAt, string Currency) : IRequest<string>;

public sealed record OrderSummary(string? CustomerId, int Quantity);

public sealed record Reading(int Celsius, decimal Price, DateTime At, string Name, Tier Tier, Guid Id, bool Ok);

public sealed record ReadingText(string Celsius, string Price, string At, string Label, string Tier, string Id, string Ok);

public sealed record Answer(int Value);

public sealed record Ask(int N) : IRequest<Answer>;

public sealed record Note(int N);

[Contract("Shop.Registered")]
public sealed record RegisteredOrder(string Sku, int Quantity) : IRequest<string>;
