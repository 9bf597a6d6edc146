using System.Text;
using System.Text.RegularExpressions;

namespace Tether.Adapters.Tests;

/// <summary>
/// Mutated specs (truncated, characters inserted, deleted, swapped, lines duplicated) never crash the reader or the
/// compiler: every run ends "valid" or in errors that each name file:line:col inside the text.
/// </summary>
public sealed partial class SpecFuzzTests
{
    private const string File = "spec.yaml";

    private static readonly string[] s_seeds =
    [
        """
        message: Shop.Order
        description: An order.
        enforce: both
        sensitive: [cardNumber]
        defaults: { currency: EUR }
        rules:
          - field: customerId
            required: true
            length: { min: 1, max: 12 }
            pattern: '^C-[0-9]+$'
          - field: quantity
            range: { min: 1, max: 10 }
          - field: currency
            oneOf: [EUR, "USD"]
          - check: end >= start
          - field: items
            count: { max: 4 }
            each:
              - field: sku
                required: true
          - field: shipping
            contract: Shop.Address
        ---
        message: Shop.Address
        rules:
          - field: zip
            pattern: "^[0-9]{5}$"
            hint: five digits
        """,
        """
        # a versioned contract
        message: Shop.PlaceOrder.v2
        mapFrom:
          - message: Shop.PlaceOrder.v1
            fields:
              quantity: { from: qty, culture: de-DE }
              placedAt: { from: when, format: yyyy-MM-dd }
              note: { default: none }
              legacy: { ignore: true }
        """,
        """
        message: Lab.ReadingText
        mapFrom:
          - message: Lab.Reading
            fields: { text: value }
        rules: [ { field: text, length: { max: 20 } }, { check: 'a < b' } ]
        """,
    ];

    private static readonly char[] s_noise = "[]{}:-,'\"#&*!|>%@`?\n\t \\0aZ.".ToCharArray();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Read_TwoThousandMutations_EachValidOrPositionedErrors(int round)
    {
        // 5 rounds x 2,000 = 10,000 mutated specs; the seed is fixed per round so a failure is reproducible.
        var random = new Random(round * 7919);
        for (int i = 0; i < 2000; i++)
        {
            string seed = s_seeds[random.Next(s_seeds.Length)];
            string text = Mutate(seed, random, 1 + random.Next(3));
            AssertValidOrPositioned(text, $"round {round}, mutation {i}");
        }
    }

    [Fact]
    public void Read_UnclosedFlowSequenceFollowedByALine_PositionedError()
    {
        // YamlDotNet's scanner throws an unpositioned InvalidOperationException on this one.
        SpecReadResult result = ContractSpecReader.Read("message: Orders.X\nrules:\n  - field: q\n    range: [1, 10\n  - field: y\n    required: true\n", File);

        SpecError error = Assert.Single(result.Errors);
        Assert.Matches(@"^spec\.yaml:\d+:\d+: this is not valid YAML", error.ToString());
        Assert.InRange(error.Location!.Value.Line, 4, 6);
    }

    [Theory]
    [InlineData("[", 100_000)]
    [InlineData("{a: ", 100_000)]
    [InlineData("- ", 20_000)]
    public void Read_HostileNesting_PositionedErrorNotAStackOverflow(string open, int times)
    {
        string text = "message: A\nrules: " + string.Concat(Enumerable.Repeat(open, times)) + "\n";

        SpecError error = Assert.Single(ContractSpecReader.Read(text, File).Errors);

        Assert.Matches(@"^spec\.yaml:2:\d+: ", error.ToString());
    }

    [Fact]
    public void Read_NestingOfSixtyFourLevels_StillRead()
    {
        // The document's mapping and 63 lists: 64 levels, at the limit, not over it.
        string text = "message: A\nrules: " + new string('[', 63) + new string(']', 63) + "\n";

        SpecReadResult result = ContractSpecReader.Read(text, File);

        Assert.DoesNotContain(result.Errors, e => e.Message.Contains("nested more than", StringComparison.Ordinal));
    }

    private static void AssertValidOrPositioned(string text, string what)
    {
        SpecReadResult result;
        try
        {
            result = ContractSpecReader.Read(text, File);
        }
        catch (Exception ex)
        {
            Assert.Fail($"{what}: the reader threw {ex.GetType().Name}: {ex.Message}\n--- spec ---\n{text}");
            return;
        }

        int lines = text.Split('\n').Length;
        foreach (SpecError error in result.Errors)
        {
            AssertPositioned(error, lines, text, what);
        }

        if (!result.IsValid)
        {
            return;
        }

        // A spec that reads cleanly must also compile or fail with positioned errors, never throw anything else.
        try
        {
            Support.Builder().AllowUnregisteredContracts().AddYaml(text, File).Build();
        }
        catch (ContractSpecException ex)
        {
            foreach (SpecError error in ex.Errors)
            {
                AssertPositioned(error, lines, text, what);
            }
        }
        catch (Exception ex)
        {
            Assert.Fail($"{what}: building threw {ex.GetType().Name}: {ex.Message}\n--- spec ---\n{text}");
        }
    }

    private static void AssertPositioned(SpecError error, int lines, string text, string what)
    {
        Assert.True(PositionedPattern().IsMatch(error.ToString()), $"{what}: unpositioned error '{error}'\n--- spec ---\n{text}");
        SpecLocation at = error.Location!.Value;
        Assert.True(at.Line >= 1 && at.Line <= lines + 1 && at.Column >= 1, $"{what}: {at} lies outside the text ({lines} lines)\n--- spec ---\n{text}");
    }

    private static string Mutate(string text, Random random, int times)
    {
        var builder = new StringBuilder(text);
        for (int t = 0; t < times; t++)
        {
            int at = builder.Length == 0 ? 0 : random.Next(builder.Length);
            switch (random.Next(6))
            {
                case 0: // truncate
                    builder.Length = at;
                    break;
                case 1: // insert a character that matters to YAML
                    builder.Insert(at, s_noise[random.Next(s_noise.Length)]);
                    break;
                case 2: // delete a run of characters
                    builder.Remove(at, Math.Min(builder.Length - at, 1 + random.Next(4)));
                    break;
                case 3: // swap two characters
                    if (builder.Length > 1)
                    {
                        int other = random.Next(builder.Length);
                        (builder[at], builder[other]) = (builder[other], builder[at]);
                    }

                    break;
                case 4: // replace with any character, control characters included
                    if (builder.Length > 0)
                    {
                        builder[at] = (char)random.Next(1, 0x3000);
                    }

                    break;
                default: // duplicate a slice elsewhere
                    int length = Math.Min(builder.Length - at, random.Next(40));
                    string slice = builder.ToString(at, length);
                    builder.Insert(random.Next(builder.Length + 1), slice);
                    break;
            }
        }

        return builder.ToString();
    }

    [GeneratedRegex(@"^spec\.yaml:\d+:\d+: \S")]
    private static partial Regex PositionedPattern();
}
