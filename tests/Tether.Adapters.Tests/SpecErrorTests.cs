namespace Tether.Adapters.Tests;

public sealed class SpecErrorTests
{
    private static SpecError Single(string yaml)
    {
        SpecReadResult result = ContractSpecReader.Read(yaml, "spec.yaml");
        return Assert.Single(result.Errors);
    }

    private static ContractSpecException BuildFails(string yaml, Action<MessageAdaptersBuilder>? setup = null)
        => Assert.Throws<ContractSpecException>(() => Support.FromYaml(yaml, setup));

    [Fact]
    public void Read_ValidSpec_NoErrorsAndTheModel()
    {
        SpecReadResult result = ContractSpecReader.Read("""
            # yaml-language-server: $schema=contract.schema.json
            message: Shop.Order
            description: An order.
            enforce: both
            sensitive: [cardNumber]
            defaults: { currency: EUR }
            rules:
              - field: quantity
                range: { min: 1, max: 100 }
            """, "spec.yaml");

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        ContractSpec spec = Assert.Single(result.Specs);
        Assert.Equal(Enforcement.Both, spec.Enforce);
        Assert.Equal(new SpecLocation("spec.yaml", 2, 10), spec.Location);
        Assert.Equal(new SpecLocation("spec.yaml", 9, 5), spec.Rules[0].Location);
    }

    [Fact]
    public void Read_UnknownKey_LocatedWithSuggestion()
    {
        SpecError error = Single("message: Shop.Order\nrules:\n  - field: currency\n    oneof: [EUR]\n");

        Assert.Equal("spec.yaml:4:5", error.Location.ToString());
        Assert.Contains("unknown rule key 'oneof' (did you mean 'oneOf'?)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_InvalidYaml_LocatedAtTheProblem()
    {
        SpecError error = Single("message: Shop.Order\nrules:\n  - field: [unclosed\n");

        Assert.Equal("spec.yaml", error.Location!.Value.File);
        Assert.True(error.Location.Value.Line >= 3, error.ToString());
        Assert.Contains("not valid YAML", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  - field: name\n    pattern: '[unclosed'\n", 4, "not a valid regular expression")]
    [InlineData("  - field: quantity\n    range: { min: 10, max: 1 }\n", 4, "min 10 is greater than max 1")]
    [InlineData("  - field: name\n    length: { min: -1 }\n", 4, "must be a whole number")]
    [InlineData("  - check: end >=\n", 3, "ends where a field or a value was expected")]
    [InlineData("  - check: end => start\n", 3, "expected an operator")]
    [InlineData("  - field: name\n    oneOf: []\n", 4, "oneOf needs at least one value")]
    [InlineData("  - field: name\n", 3, "names no check")]
    [InlineData("  - required: true\n", 3, "needs a field")]
    [InlineData("  - field: 'a..b'\n    required: true\n", 4, "is not a field path")]
    [InlineData("  - field: items\n    each: []\n", 4, "each needs at least one rule")]
    public void Read_BadRule_LocatedAndExplained(string rules, int line, string expected)
    {
        SpecError error = Single($"message: Shop.Order\nrules:\n{rules}");

        Assert.Equal(line, error.Location!.Value.Line);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rules: quantity\n", "rules is a list: start each rule with '- field: NAME'")]
    [InlineData("mapFrom: Shop.Cart\n", "mapFrom is a list: start each entry with '- message: NAME'")]
    [InlineData("sensitive: cardNumber\n", "sensitive is a list such as [a, b]")]
    public void Read_ListGivenAsAScalar_LocatedAndExplained(string section, string expected)
    {
        SpecError error = Single($"message: Shop.Order\n{section}");

        Assert.Equal(2, error.Location!.Value.Line);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MissingMessage_IsAnError()
        => Assert.Contains("has no 'message:'", Single("rules: []\n").Message, StringComparison.Ordinal);

    [Fact]
    public void Read_BadEnforce_IsAnError()
        => Assert.Contains("enforce must be input, output or both", Single("message: A\nenforce: sometimes\n").Message, StringComparison.Ordinal);

    [Fact]
    public void Read_TwoSpecsForOneMessage_InOneFile_IsAnError()
    {
        SpecError error = Single("message: Shop.Order\n---\nmessage: Shop.Order\n");

        Assert.Equal("spec.yaml:3:10", error.Location.ToString());
        Assert.Contains("already has a contract (spec.yaml:1:10)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_TwoSpecsForOneMessage_AcrossSources_IsAnErrorNotAnOverride()
    {
        ContractSpecException error = Assert.Throws<ContractSpecException>(() => Support.Builder()
            .AddYaml("message: Shop.Order\n", "a.yaml")
            .AddContract("Shop.Order", c => c.Field("quantity", f => f.Min(1)))
            .Build());

        Assert.Contains("already has a contract (a.yaml:1:10)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_UnknownField_NamesFileLineAndCloseName()
    {
        ContractSpecException error = BuildFails("message: Shop.Order\nrules:\n  - field: quantitty\n    range: { min: 1 }\n");

        SpecError single = Assert.Single(error.Errors);
        Assert.Equal("test.yaml:4:5", single.Location.ToString());
        Assert.Contains("no field or property 'quantitty' (did you mean 'Quantity'?)", single.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  - field: quantity\n    length: { max: 3 }\n", "length applies to text")]
    [InlineData("  - field: customerId\n    count: { max: 3 }\n", "use length for text")]
    [InlineData("  - field: quantity\n    range: { min: abc }\n", "'abc' is not a valid int")]
    [InlineData("  - field: tier\n    oneOf: [Platinum]\n", "the values are Bronze, Silver, Gold")]
    [InlineData("  - field: email\n    custom: is-emial\n", "no predicate named 'is-emial' is registered (did you mean 'is-email'?)")]
    [InlineData("  - check: customerId > quantity\n", "compare fields of the same type")]
    [InlineData("  - field: shipping\n    contract: Shop.Nowhere\n", "has no CLR type registered")]
    public void Build_RuleThatDoesNotFitTheType_IsExplained(string rules, string expected)
    {
        ContractSpecException error = BuildFails($"message: Shop.Order\nrules:\n{rules}", b => b.AddPredicate<string>("is-email", _ => true));

        Assert.Contains(expected, Assert.Single(error.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DefaultOnNonNullableField_IsExplained()
    {
        ContractSpecException error = BuildFails("message: Shop.Order\ndefaults:\n  quantity: 5\n");

        Assert.Contains("int, which is never missing; make it int?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_MapWithUnfilledDestination_SaysHowToFillIt()
    {
        ContractSpecException error = BuildFails("message: Shop.PlaceOrder.v2\nmapFrom:\n  - message: Shop.PlaceOrder.v1\n    fields:\n      customerId: customer_id\n      placedAt: placed\n");

        Assert.Contains("field Quantity: PlaceOrderV1 has no field Quantity; add 'quantity: { from: SOURCE_FIELD }'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_UnregisteredContract_IsAnErrorUnlessAllowed()
    {
        ContractSpecException error = BuildFails("message: Shop.Unknown\n");
        Assert.Contains("Shop.Unknown has no CLR type registered", error.Message, StringComparison.Ordinal);

        MessageAdapters adapters = Support.Builder().AllowUnregisteredContracts().AddYaml("message: Shop.Unknown\n", "x.yaml").Build();
        Assert.Empty(adapters.Specs);
    }

    [Fact]
    public void Build_ReportsEveryErrorNotOnlyTheFirst()
    {
        ContractSpecException error = BuildFails("message: Shop.Order\nrules:\n  - field: nope1\n    required: true\n  - field: nope2\n    required: true\n");

        Assert.Equal(2, error.Errors.Count);
    }

    [Fact]
    public void Directory_SpecsBesideTheMessages_LoadAndErrorsNameTheFile()
    {
        string dir = Path.Join(Path.GetTempPath(), "tether-contracts-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Join(dir, "orders"));
        try
        {
            File.WriteAllText(Path.Join(dir, "orders", "order.yaml"), "message: Shop.Order\nrules:\n  - field: quantity\n    range: { min: 1 }\n");
            File.WriteAllText(Path.Join(dir, "notes.txt"), "not a spec");
            MessageAdapters adapters = Support.Builder().AddDirectory(dir).Build();
            Assert.Equal("Shop.Order", Assert.Single(adapters.Specs).Message);

            File.WriteAllText(Path.Join(dir, "orders", "again.yml"), "message: Shop.Order\n");
            ContractSpecException error = Assert.Throws<ContractSpecException>(() => Support.Builder().AddDirectory(dir).Build());
            Assert.Contains("order.yaml:1:10: Shop.Order already has a contract", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Embedded_ResourcesLoad()
    {
        MessageAdapters adapters = Support.Builder().AddEmbedded(typeof(SpecErrorTests).Assembly, "Tether.Adapters.Tests.Embedded.contracts.").Build();

        Assert.Equal("Test.Note", Assert.Single(adapters.Specs).Message);
        adapters.Pipe<Note>().Violation(new Note(-1));
    }

    [Fact]
    public void Schema_IsShippedAndNamesEveryRuleKey()
    {
        using Stream stream = typeof(MessageAdapters).Assembly.GetManifestResourceStream("Tether.Adapters.contract.schema.json")!;
        using var reader = new StreamReader(stream);
        using var schema = System.Text.Json.JsonDocument.Parse(reader.ReadToEnd());
        System.Text.Json.JsonElement rule = schema.RootElement.GetProperty("$defs").GetProperty("rule").GetProperty("properties");

        foreach (string key in new[] { "field", "required", "range", "length", "pattern", "oneOf", "count", "each", "contract", "custom", "check", "hint" })
        {
            Assert.True(rule.TryGetProperty(key, out _), $"the schema lacks the rule key {key}");
        }
    }

    [Fact]
    public void Schema_TopLevelKeys_MatchWhatTheReaderAccepts()
    {
        using Stream stream = typeof(MessageAdapters).Assembly.GetManifestResourceStream("Tether.Adapters.contract.schema.json")!;
        using var schema = System.Text.Json.JsonDocument.Parse(stream);
        string[] keys = [.. schema.RootElement.GetProperty("properties").EnumerateObject().Select(p => p.Name)];

        Assert.Equal(["message", "description", "enforce", "sensitive", "defaults", "rules", "mapFrom"], keys);
        foreach (string key in keys)
        {
            string yaml = key == "message" ? "message: A\n" : $"message: A\n{key}: x\n";
            Assert.DoesNotContain(ContractSpecReader.Read(yaml, "s.yaml").Errors, e => e.Message.Contains("unknown", StringComparison.Ordinal));
        }
    }
}
