using System.Globalization;

namespace Tether.Adapters.Tests;

public sealed class TransformTests
{
    private const string Upgrade = """
        message: Shop.PlaceOrder.v2
        defaults:
          currency: EUR
        rules:
          - field: quantity
            range: { min: 1 }
        mapFrom:
          - message: Shop.PlaceOrder.v1
            fields:
              customerId: customer_id
              quantity: { from: qty, culture: de-DE }
              placedAt: { from: placed, format: 'dd.MM.yyyy HH:mm', culture: de-DE }
              currency: { default: EUR }
        """;

    private static MessagePipe UpgradePipe() => Support.FromYaml(Upgrade)
        .Inbound(typeof(object), typeof(PlaceOrderV1), [typeof(PlaceOrderV2)])!;

    [Fact]
    public void MapV1ToV2_RenameConvertDefault()
    {
        object result = UpgradePipe().Apply(new PlaceOrderV1("C-9", "1.234", "24.12.2024 18:30", "ignored"));

        PlaceOrderV2 v2 = Assert.IsType<PlaceOrderV2>(result);
        Assert.Equal("C-9", v2.CustomerId);
        Assert.Equal(1234, v2.Quantity); // German thousands separator
        Assert.Equal(new DateTime(2024, 12, 24, 18, 30, 0), v2.PlacedAt);
        Assert.Equal("EUR", v2.Currency);
    }

    [Fact]
    public void MapV1ToV2_DestinationRulesApplyAfterTheMapping()
    {
        ContractViolationException error = UpgradePipe().Violation(new PlaceOrderV1("C-9", "0", "24.12.2024 18:30", null));

        Assert.Equal("Shop.PlaceOrder.v2", error.MessageType);
        Assert.Equal("quantity", error.Path);
    }

    [Fact]
    public void Convert_BadNumber_NamesTheSourceFieldAndTheConversion()
    {
        ContractViolationException error = UpgradePipe().Violation(new PlaceOrderV1("C-9", "twelve", "24.12.2024 18:30", null));

        Assert.Equal("Shop.PlaceOrder.v1", error.MessageType);
        Assert.Equal("qty", error.Path);
        Assert.Equal("\"twelve\"", error.Value);
        Assert.Contains("culture de-DE", error.Message, StringComparison.Ordinal);
        Assert.Contains("test.yaml:11:7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_BadDate_NamesTheFormat()
    {
        ContractViolationException error = UpgradePipe().Violation(new PlaceOrderV1("C-9", "1", "2024-12-24", null));

        Assert.Equal("placed", error.Path);
        Assert.Contains("format dd.MM.yyyy HH:mm", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_MissingRequiredSource_IsAViolation()
    {
        ContractViolationException error = UpgradePipe().Violation(new PlaceOrderV1(null, "1", "24.12.2024 18:30", null));

        Assert.Equal("customer_id", error.Path);
        Assert.Contains("needs a value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_FillMissingFieldsBeforeTheRules()
    {
        MessagePipe pipe = Support.FromYaml("""
            message: Shop.Order
            defaults:
              currency: USD
              price: 9.5
            rules:
              - field: currency
                required: true
            """).Pipe<Order>();

        var complete = new Order(Currency: "EUR", Price: 1m);
        Assert.Same(complete, pipe.Apply(complete)); // nothing missing: the same instance, no copy
        var filled = Assert.IsType<Order>(pipe.Apply(new Order(Currency: null, Price: null, Quantity: 7)));
        Assert.Equal("USD", filled.Currency);
        Assert.Equal(9.5m, filled.Price);
        Assert.Equal(7, filled.Quantity);
    }

    [Fact]
    public void Extract_LargeMessageProjectedOntoSmallerType()
    {
        MessageAdapters adapters = Support.FromYaml("message: Shop.OrderSummary\nmapFrom:\n  - message: Shop.Order\n");
        MessagePipe pipe = adapters.Inbound(typeof(object), typeof(Order), [typeof(OrderSummary)])!;

        var summary = Assert.IsType<OrderSummary>(pipe.Apply(new Order(CustomerId: "C-5", Quantity: 3, Items: [new("x", 1)])));

        Assert.Equal(new OrderSummary("C-5", 3), summary);
    }

    [Fact]
    public void Map_Chain_V1ToV2ToSummary_ShortestRouteToAHandledType()
    {
        MessageAdapters adapters = Support.FromYaml(Upgrade + "\n---\nmessage: Shop.OrderSummary\nmapFrom:\n  - message: Shop.PlaceOrder.v2\n");
        MessagePipe pipe = adapters.Inbound(typeof(object), typeof(PlaceOrderV1), [typeof(OrderSummary)])!;

        Assert.Equal(new OrderSummary("C-1", 5), pipe.Apply(new PlaceOrderV1("C-1", "5", "01.01.2025 00:00", null)));
        Assert.Null(adapters.Inbound(typeof(object), typeof(PlaceOrderV1), [typeof(Note)])); // no route: no pipe
    }

    [Fact]
    public void Convert_TextNumberDateEnumGuidBool_BothWays()
    {
        MessageAdapters adapters = Support.FromYaml("""
            message: Lab.ReadingText
            mapFrom:
              - message: Lab.Reading
                fields:
                  price: { format: '0.00', culture: de-DE }
                  at: { format: 'yyyy-MM-dd HH:mm:ss' }
                  label: name
            ---
            message: Lab.Reading
            mapFrom:
              - message: Lab.ReadingText
                fields:
                  price: { culture: de-DE }
                  at: { format: 'yyyy-MM-dd HH:mm:ss' }
                  name: label
            """);
        MessagePipe toText = adapters.Inbound(typeof(object), typeof(Reading), [typeof(ReadingText)])!;
        MessagePipe toValues = adapters.Inbound(typeof(object), typeof(ReadingText), [typeof(Reading)])!;
        var id = Guid.NewGuid();
        var reading = new Reading(-5, 1234.5m, new DateTime(2025, 3, 4, 5, 6, 7), "probe", Tier.Silver, id, true);

        var text = Assert.IsType<ReadingText>(toText.Apply(reading));

        Assert.Equal(new ReadingText("-5", "1234,50", "2025-03-04 05:06:07", "probe", "Silver", id.ToString(), "true"), text);
        Assert.Equal(reading, toValues.Apply(text));
    }

    [Fact]
    public void Convert_NumberThatDoesNotFit_IsAViolation()
    {
        MessageAdapters adapters = Support.FromYaml("message: Lab.Reading\nmapFrom:\n  - message: Lab.ReadingText\n    fields:\n      name: label\n");
        MessagePipe pipe = adapters.Inbound(typeof(object), typeof(ReadingText), [typeof(Reading)])!;
        var text = new ReadingText("99999999999", "1", DateTime.UnixEpoch.ToString("O", CultureInfo.InvariantCulture), "n", "Gold", Guid.Empty.ToString(), "false");

        ContractViolationException error = pipe.Violation(text);

        Assert.Equal("celsius", error.Path, ignoreCase: true);
        Assert.Contains("fits in an int", error.Message, StringComparison.Ordinal);
    }
}
