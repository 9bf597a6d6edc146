using FsCheck;
using FsCheck.Xunit;

namespace Tether.Adapters.Tests;

public sealed class PropertyTests
{
    private const string Everything = """
        message: Shop.Address
        rules:
          - field: zip
            pattern: '^[0-9]{5}$'
        ---
        message: Shop.Order
        sensitive: [cardNumber]
        defaults:
          currency: EUR
        rules:
          - field: customerId
            required: true
            length: { min: 1, max: 12 }
            pattern: '^(C)-\1?[0-9]+$'
          - field: quantity
            range: { min: -5, max: 5 }
          - field: price
            range: { min: 0.01, max: 1000 }
          - field: currency
            oneOf: [EUR, USD]
          - check: end >= start
          - check: quantity <= price
          - field: items
            count: { max: 4 }
            each:
              - field: sku
                required: true
                pattern: '^[A-Z]+$'
              - field: quantity
                range: { min: 1 }
          - field: scores
            each:
              - range: { min: 0, max: 9 }
          - field: shipping
            contract: Shop.Address
          - field: email
            custom: has-at
          - field: cardNumber
            length: { max: 16 }
          - field: tier
            oneOf: [Gold]
        """;

    private static readonly MessageAdapters s_everything = Support
        .FromYaml(Everything, b => b.AddPredicate<string>("has-at", s => s.IndexOf('@', StringComparison.Ordinal) > 0));

    private static readonly MessagePipe s_validate = s_everything.Pipe<Order>();

    private static readonly MessageAdapters s_roundTrip = Support.FromYaml("""
        message: Lab.ReadingText
        mapFrom:
          - message: Lab.Reading
            fields:
              price: { culture: de-DE }
              at: { format: 'yyyy-MM-dd HH:mm:ss', culture: fr-FR }
              label: name
        ---
        message: Lab.Reading
        mapFrom:
          - message: Lab.ReadingText
            fields:
              price: { culture: de-DE }
              at: { format: 'yyyy-MM-dd HH:mm:ss', culture: fr-FR }
              name: label
        """);

    [Property(MaxTest = 500)]
    public bool Validation_NeverThrowsAnythingButAViolation(
        string? customer, int quantity, decimal? price, string? currency, int startSeconds, int endSeconds,
        string?[]? skus, int[]? scores, string? zip, string? email, string? card, int tier)
    {
        var order = new Order(
            customer,
            quantity,
            price,
            currency,
            DateTime.UnixEpoch.AddSeconds(startSeconds),
            DateTime.UnixEpoch.AddSeconds(endSeconds),
            skus?.Select((s, i) => new Item(s, i - 1)).ToList(),
            zip is null ? null : new ShippingAddress("street", zip),
            email,
            card,
            (Tier)(Math.Abs(tier % 4)),
            scores);
        try
        {
            object result = s_validate.Apply(order);
            return result is Order;
        }
        catch (ContractViolationException violation)
        {
            return violation.Code == ErrorCodes.ContractViolation && violation.MessageType.Length > 0 && violation.Rule.Length > 0
                && (card is null || card.Length < 4 || !violation.Message.Contains(card, StringComparison.Ordinal) || !violation.Path.StartsWith("cardNumber", StringComparison.Ordinal));
        }
    }

    [Property(MaxTest = 500)]
    public bool FastPath_AgreesWithTheRuleByRuleChecks(string? customer, int quantity, decimal? price, string? currency, int startSeconds, int endSeconds, string?[]? skus, int tier)
    {
        Tether.Adapters.Internal.CompiledContract contract = s_everything.ContractFor(typeof(Order))!;
        var order = new Order(
            customer,
            quantity,
            price,
            currency,
            DateTime.UnixEpoch.AddSeconds(startSeconds),
            DateTime.UnixEpoch.AddSeconds(endSeconds),
            skus?.Select((s, i) => new Item(s, i)).ToList(),
            Email: "a@b",
            Tier: (Tier)Math.Abs(tier % 3));

        return contract.Passes(order) == (contract.Validate(order) is null);
    }

    [Property(MaxTest = 500)]
    public bool Transform_ThenItsInverse_IsTheIdentity(int celsius, decimal price, int seconds, NonNull<string> name, int tier, int id, bool ok)
    {
        var reading = new Reading(celsius, price, DateTime.UnixEpoch.AddSeconds(seconds), name.Get, (Tier)Math.Abs(tier % 3), new Guid(id, 0, 0, new byte[8]), ok);
        MessagePipe forth = s_roundTrip.Inbound(typeof(object), typeof(Reading), [typeof(ReadingText)])!;
        MessagePipe back = s_roundTrip.Inbound(typeof(object), typeof(ReadingText), [typeof(Reading)])!;

        object text = forth.Apply(reading);

        return text is ReadingText && Equals(back.Apply(text), reading);
    }

    [Property(MaxTest = 300)]
    public bool Conversion_OfArbitraryText_NeverThrowsAnythingButAViolation(string? celsius, string? price, string? at, string? tier, string? id, string? ok)
    {
        MessagePipe back = s_roundTrip.Inbound(typeof(object), typeof(ReadingText), [typeof(Reading)])!;
        try
        {
            return back.Apply(new ReadingText(celsius!, price!, at!, "name", tier!, id!, ok!)) is Reading;
        }
        catch (ContractViolationException)
        {
            return true;
        }
    }
}
