namespace Tether.Adapters.Tests;

public sealed class RuleTests
{
    private static MessagePipe OrderPipe(string rules, Action<MessageAdaptersBuilder>? setup = null)
        => Support.FromYaml($"message: Shop.Order\nsensitive: [cardNumber]\nrules:\n{rules}", setup).Pipe<Order>();

    [Fact]
    public void Required_Present_Passes()
    {
        MessagePipe pipe = OrderPipe("  - field: customerId\n    required: true\n");
        var order = new Order(CustomerId: "C-7");

        Assert.Same(order, pipe.Apply(order));
    }

    [Theory]
    [InlineData(null, "missing")]
    [InlineData("", "\"\"")]
    public void Required_MissingOrEmpty_NamesTypeFieldRuleAndValue(string? customer, string shown)
    {
        MessagePipe pipe = OrderPipe("  - field: customerId\n    required: true\n");

        ContractViolationException error = pipe.Violation(new Order(CustomerId: customer));

        Assert.Equal(ErrorCodes.ContractViolation, error.Code);
        Assert.Equal("Shop.Order", error.MessageType);
        Assert.Equal("customerId", error.Path);
        Assert.Equal("required", error.Rule);
        Assert.Equal(shown, error.Value);
        Assert.Contains("Shop.Order.customerId", error.Message, StringComparison.Ordinal);
        Assert.Contains("test.yaml:5:5", error.Message, StringComparison.Ordinal); // the rule's place in the spec
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(100, true)]
    [InlineData(0, false)]
    [InlineData(101, false)]
    public void Range_Integer_InclusiveBounds(int quantity, bool passes)
    {
        MessagePipe pipe = OrderPipe("  - field: quantity\n    range: { min: 1, max: 100 }\n");

        if (passes)
        {
            pipe.Apply(new Order(Quantity: quantity));
            return;
        }

        ContractViolationException error = pipe.Violation(new Order(Quantity: quantity));
        Assert.Equal("range 1..100", error.Rule);
        Assert.Equal(quantity.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Value);
        Assert.Contains(quantity < 1 ? "less than the minimum 1" : "greater than the maximum 100", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Range_NullableDecimal_MissingPassesOutOfRangeFails()
    {
        MessagePipe pipe = OrderPipe("  - field: price\n    range: { min: 0.01 }\n");

        pipe.Apply(new Order(Price: null));
        pipe.Apply(new Order(Price: 0.01m));
        Assert.Equal("0.00", pipe.Violation(new Order(Price: 0.00m)).Value);
    }

    [Fact]
    public void Range_DateTime_ComparesDates()
    {
        MessagePipe pipe = OrderPipe("  - field: start\n    range: { min: '2020-01-01', max: '2030-12-31' }\n");

        pipe.Apply(new Order(Start: new DateTime(2025, 6, 1)));
        Assert.Equal("start", pipe.Violation(new Order(Start: new DateTime(2019, 12, 31))).Path);
    }

    [Theory]
    [InlineData("C-1", true)]
    [InlineData("C-12345", true)]
    [InlineData("C", false)]
    [InlineData("C-123456", false)]
    public void Length_Text_BetweenMinAndMax(string customer, bool passes)
    {
        MessagePipe pipe = OrderPipe("  - field: customerId\n    length: { min: 3, max: 7 }\n");

        if (passes)
        {
            pipe.Apply(new Order(CustomerId: customer));
        }
        else
        {
            Assert.Equal("length 3..7", pipe.Violation(new Order(CustomerId: customer)).Rule);
        }
    }

    [Theory]
    [InlineData("C-42", true)]
    [InlineData("c-42", false)]
    [InlineData("C-42x", false)]
    public void Pattern_AnchoredRegex(string customer, bool passes)
    {
        MessagePipe pipe = OrderPipe("  - field: customerId\n    pattern: '^C-[0-9]+$'\n");

        if (passes)
        {
            pipe.Apply(new Order(CustomerId: customer));
        }
        else
        {
            Assert.Contains("does not match the pattern ^C-[0-9]+$", pipe.Violation(new Order(CustomerId: customer)).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Pattern_BackReference_StillWorks()
    {
        MessagePipe pipe = OrderPipe("  - field: customerId\n    pattern: '^(a+)\\1$'\n");

        pipe.Apply(new Order(CustomerId: "aaaa"));
        pipe.Violation(new Order(CustomerId: "aaa"));
    }

    [Fact]
    public void OneOf_TextAndEnum()
    {
        MessagePipe pipe = OrderPipe("  - field: currency\n    oneOf: [EUR, USD]\n  - field: tier\n    oneOf: [silver, gold]\n");

        pipe.Apply(new Order(Currency: "USD", Tier: Tier.Gold));
        Assert.Equal("currency", pipe.Violation(new Order(Currency: "eur", Tier: Tier.Gold)).Path); // text compares exactly
        ContractViolationException tier = pipe.Violation(new Order(Currency: "EUR", Tier: Tier.Bronze));
        Assert.Equal("tier", tier.Path);
        Assert.Equal("Bronze", tier.Value);
    }

    [Theory]
    [InlineData("end >= start", 2, 1, true)]
    [InlineData("end >= start", 1, 1, true)]
    [InlineData("end >= start", 1, 2, false)]
    [InlineData("end > start", 1, 1, false)]
    [InlineData("start != end", 1, 1, false)]
    [InlineData("start == end", 1, 1, true)]
    [InlineData("start < end", 2, 1, true)]
    [InlineData("start <= end", 1, 2, false)]
    public void Check_CrossField(string expression, int endDay, int startDay, bool passes)
    {
        MessagePipe pipe = OrderPipe($"  - check: {expression}\n");
        var order = new Order(Start: new DateTime(2025, 1, startDay), End: new DateTime(2025, 1, endDay));

        if (passes)
        {
            pipe.Apply(order);
        }
        else
        {
            ContractViolationException error = pipe.Violation(order);
            Assert.Equal($"check {expression}", error.Rule);
            Assert.Contains("start is 2025-01-0", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Check_FieldAgainstLiteral_AndMixedNumericTypes()
    {
        MessagePipe pipe = OrderPipe("  - check: \"currency != 'XXX'\"\n  - check: quantity <= price\n");

        pipe.Apply(new Order(Currency: "EUR", Quantity: 5, Price: 5m));
        Assert.Equal("currency", pipe.Violation(new Order(Currency: "XXX")).Path);
        Assert.Equal("quantity", pipe.Violation(new Order(Quantity: 6, Price: 5.5m)).Path);
        pipe.Apply(new Order(Quantity: 6, Price: null)); // a missing side: the check does not apply
    }

    [Fact]
    public void Count_AndEach_PerItemRulesNameTheIndex()
    {
        MessagePipe pipe = OrderPipe("""
              - field: items
                count: { min: 1, max: 3 }
                each:
                  - field: sku
                    required: true
                    pattern: '^SKU-'
                  - field: quantity
                    range: { min: 1 }
            """);

        pipe.Apply(new Order(Items: [new("SKU-1", 1), new("SKU-2", 5)]));
        Assert.Equal("count 1..3", pipe.Violation(new Order(Items: [])).Rule);
        Assert.Equal("items", pipe.Violation(new Order(Items: [new("SKU-1", 1), new("SKU-1", 1), new("SKU-1", 1), new("SKU-1", 1)])).Path);
        ContractViolationException error = pipe.Violation(new Order(Items: [new("SKU-1", 1), new("SKU-2", 0)]));
        Assert.Equal("items[1].quantity", error.Path);
        Assert.Equal("items[0].sku", pipe.Violation(new Order(Items: [new(null, 1)])).Path);
    }

    [Fact]
    public void Each_ScalarItems_RuleOnTheItemItself()
    {
        MessagePipe pipe = OrderPipe("  - field: scores\n    each:\n      - range: { min: 0, max: 10 }\n");

        pipe.Apply(new Order(Scores: [0, 10, 5]));
        ContractViolationException error = pipe.Violation(new Order(Scores: [1, 11]));
        Assert.Equal("scores[1]", error.Path);
        Assert.Equal("11", error.Value);
    }

    [Fact]
    public void Nested_MessageMeetsItsOwnContract()
    {
        const string yaml = """
            message: Shop.Address
            rules:
              - field: zip
                pattern: '^[0-9]{5}$'
            ---
            message: Shop.Order
            rules:
              - field: shipping
                contract: Shop.Address
            """;
        MessagePipe pipe = Support.FromYaml(yaml).Pipe<Order>();

        pipe.Apply(new Order(Shipping: new ShippingAddress("Main St", "12345")));
        pipe.Apply(new Order(Shipping: null));
        ContractViolationException error = pipe.Violation(new Order(Shipping: new ShippingAddress("Main St", "1234")));
        Assert.Equal("shipping.zip", error.Path);
        Assert.Equal("Shop.Order", error.MessageType); // the path is the sender's: from the message sent
        Assert.Contains("test.yaml:4:5", error.Message, StringComparison.Ordinal); // the rule is the nested contract's
    }

    [Fact]
    public void Custom_FieldAndWholeMessagePredicates()
    {
        MessagePipe pipe = OrderPipe(
            "  - field: email\n    custom: is-email\n  - custom: gold-buys-many\n",
            b => b.AddPredicate<string>("is-email", s => s.Contains('@', StringComparison.Ordinal))
                .AddPredicate<Order>("gold-buys-many", o => o.Tier != Tier.Gold || o.Quantity >= 10));

        pipe.Apply(new Order(Email: "x@y", Tier: Tier.Gold, Quantity: 10));
        Assert.Equal("custom is-email", pipe.Violation(new Order(Email: "nope")).Rule);
        ContractViolationException whole = pipe.Violation(new Order(Tier: Tier.Gold, Quantity: 1));
        Assert.Equal("", whole.Path);
        Assert.StartsWith("Shop.Order breaks", whole.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Custom_PredicateThatThrows_IsAViolationNotACrash()
    {
        MessagePipe pipe = OrderPipe("  - field: email\n    custom: explodes\n", b => b.AddPredicate<string>("explodes", _ => throw new InvalidOperationException("boom")));

        Assert.Contains("threw InvalidOperationException: boom", pipe.Violation(new Order()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sensitive_ValueIsMasked()
    {
        MessagePipe pipe = OrderPipe("  - field: cardNumber\n    pattern: '^[0-9]{16}$'\n");

        ContractViolationException error = pipe.Violation(new Order(CardNumber: "4111-1111"));

        Assert.DoesNotContain("4111", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("4111", error.Value, StringComparison.Ordinal);
        Assert.Contains("masked", error.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Sensitive_CrossFieldCheck_ShowsNeitherValue()
    {
        MessagePipe pipe = OrderPipe("  - check: \"cardNumber != 'secret-4111'\"\n");

        ContractViolationException error = pipe.Violation(new Order(CardNumber: "secret-4111"));

        Assert.DoesNotContain("secret-4111\"", error.Message, StringComparison.Ordinal);
        Assert.Equal("(masked: sensitive field)", error.Value);
    }

    [Fact]
    public void Hint_IsAddedToTheError()
    {
        MessagePipe pipe = OrderPipe("  - field: quantity\n    range: { max: 100 }\n    hint: split larger orders\n");

        Assert.Contains("split larger orders", pipe.Violation(new Order(Quantity: 101)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rules_CheckedInOrder_FirstBrokenWins()
    {
        MessagePipe pipe = OrderPipe("  - field: quantity\n    range: { min: 1 }\n  - field: customerId\n    required: true\n");

        Assert.Equal("quantity", pipe.Violation(new Order(Quantity: 0, CustomerId: null)).Path);
    }

    [Fact]
    public void FluentBuilder_YieldsTheSameModelAsYaml()
    {
        const string yaml = """
            message: Shop.Order
            rules:
              - field: customerId
                required: true
                length: { min: 3, max: 20 }
              - field: quantity
                range: { min: 1, max: 100 }
              - field: currency
                oneOf: [EUR, USD]
              - check: end >= start
            """;
        ContractSpec fromYaml = ContractSpecReader.Read(yaml, "x.yaml").Specs.Single();
        ContractSpec fromCode = ContractBuilder.For("Shop.Order")
            .Field("customerId", f => f.Required().Length(3, 20))
            .Field("quantity", f => f.Range(1, 100))
            .Field("currency", f => f.OneOf("EUR", "USD"))
            .Check("end >= start")
            .Build();

        static object Shape(RuleSpec r) => new { r.Kind, r.Path, r.Min, r.Max, Values = string.Join(",", r.Values ?? []), r.Expression };
        Assert.Equal(fromYaml.Rules.Select(Shape), fromCode.Rules.Select(Shape));
    }

    [Fact]
    public void FluentBuilder_ContractEnforced()
    {
        MessageAdapters adapters = Support.Builder()
            .AddContract("Shop.Order", c => c
                .Field("quantity", f => f.Range(1, 100))
                .Field("items", f => f.Count(1).Each(i => i.Field("sku", s => s.Required()))))
            .Build();
        MessagePipe pipe = adapters.Pipe<Order>();

        pipe.Apply(new Order(Items: [new("a", 1)]));
        Assert.Equal("items[0].sku", pipe.Violation(new Order(Items: [new(null, 1)])).Path);
        Assert.Contains("RuleTests.cs:", pipe.Violation(new Order(Quantity: 0, Items: [new("a", 1)])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoContract_NoPipe()
    {
        MessageAdapters adapters = Support.FromYaml("message: Shop.Order\nrules:\n  - field: quantity\n    range: { min: 1 }\n");

        Assert.Null(adapters.Inbound(typeof(object), typeof(Note), [typeof(Note)]));
        Assert.Null(adapters.Outbound(typeof(object), typeof(Order))); // enforced on input only
    }
}
