using System.CommandLine;

namespace Tether.Cli.Tests;

public sealed class ContractsCommandTests
{
    private const string Valid = """
        message: Orders.PlaceOrder
        defaults:
          currency: EUR
        rules:
          - field: quantity
            range: { min: 1, max: 100 }
          - check: end >= start
        mapFrom:
          - message: Orders.PlaceOrder.v1
            fields:
              customerId: customer_id
        """;

    private const string Invalid = """
        message: Orders.Cancel
        rules:
          - field: reason
            lenght: { max: 3 }
          - field: qty
            range: { min: 5, max: 1 }
        """;

    private static (int Code, string[] Lines) Check(params string[] paths)
    {
        using var output = new StringWriter();
        int code = ContractsCommand.Check(paths, output);
        return (code, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public void Check_ValidFile_ExitsZero()
    {
        using var tree = new TempTree();
        tree.Write("contracts/orders.yaml", System.Text.Encoding.UTF8.GetBytes(Valid));

        (int code, string[] lines) = Check(Path.Join(tree.Root, "contracts", "orders.yaml"));

        Assert.Equal(0, code);
        Assert.Equal("ok: 1 contract in 1 file", Assert.Single(lines));
    }

    [Fact]
    public void Check_InvalidFile_ExitsOneWithFileLineColumnErrors()
    {
        using var tree = new TempTree();
        tree.Write("bad.yaml", System.Text.Encoding.UTF8.GetBytes(Invalid));
        string file = Path.Join(tree.Root, "bad.yaml");

        (int code, string[] lines) = Check(file);

        Assert.Equal(1, code);
        Assert.Equal($"{file}:4:5: unknown rule key 'lenght' (did you mean 'length'?); known keys: field, required, range, length, pattern, oneOf, count, each, contract, custom, check, hint", lines[0]);
        Assert.StartsWith($"{file}:6:5: ", lines[1], StringComparison.Ordinal);
        Assert.Contains("min 5 is greater than max 1", lines[1], StringComparison.Ordinal);
        Assert.Equal("2 errors in 1 file", lines[^1]);
    }

    [Fact]
    public void Check_Directory_ReadsEverySpecAndFindsDuplicatesAcrossFiles()
    {
        using var tree = new TempTree();
        tree.Write("contracts/a.yaml", System.Text.Encoding.UTF8.GetBytes(Valid));
        tree.Write("contracts/sub/b.yml", System.Text.Encoding.UTF8.GetBytes("message: Orders.PlaceOrder\n"));
        tree.Write("contracts/readme.txt", "not a spec"u8.ToArray());

        (int code, string[] lines) = Check(Path.Join(tree.Root, "contracts"));

        Assert.Equal(1, code);
        Assert.Matches(@"b\.yml:1:10: Orders\.PlaceOrder already has a contract \(.*a\.yaml:1:10\)", lines[0]);
        Assert.Equal("1 error in 2 files", lines[^1]);
    }

    [Fact]
    public void Check_MissingPath_ExitsOne()
    {
        (int code, string[] lines) = Check("/no/such/contracts.yaml");

        Assert.Equal(1, code);
        Assert.Equal("/no/such/contracts.yaml:1:1: no such file or directory", lines[0]);
    }

    [Fact]
    public void Explain_PrintsThePipeInPlainWords()
    {
        using var tree = new TempTree();
        tree.Write("orders.yaml", System.Text.Encoding.UTF8.GetBytes(Valid));
        using var output = new StringWriter();

        int code = ContractsCommand.Explain("Orders.PlaceOrder", [Path.Join(tree.Root, "orders.yaml")], output);

        string text = output.ToString();
        Assert.Equal(0, code);
        Assert.Contains("Enforced before an input channel (precondition)", text, StringComparison.Ordinal);
        Assert.Contains("Missing fields get defaults: currency = EUR.", text, StringComparison.Ordinal);
        Assert.Contains("1) quantity is between 1 and 100 inclusive (when present)", text, StringComparison.Ordinal);
        Assert.Contains("2) end is greater than or equal to start (checked when both are present)", text, StringComparison.Ordinal);
        Assert.Contains("from Orders.PlaceOrder.v1", text, StringComparison.Ordinal);
        Assert.Contains("customerId: from customer_id (renamed)", text, StringComparison.Ordinal);
        Assert.Contains("contract-violation", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_UnknownType_ExitsOneAndListsTheKnownOnes()
    {
        using var tree = new TempTree();
        tree.Write("orders.yaml", System.Text.Encoding.UTF8.GetBytes(Valid));
        using var output = new StringWriter();

        int code = ContractsCommand.Explain("Orders.Nope", [tree.Root], output);

        Assert.Equal(1, code);
        Assert.Contains("No contract or mapping names Orders.Nope. The specs define: Orders.PlaceOrder.", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Command_ParsesCheckAndExplain()
    {
        var root = new RootCommand { ContractsCommand.Build() };

        Assert.Empty(root.Parse(["contracts", "check", "a.yaml", "b"]).Errors);
        Assert.Empty(root.Parse(["contracts", "explain", "Orders.PlaceOrder", "--spec", "contracts"]).Errors);
        Assert.NotEmpty(root.Parse(["contracts", "explain", "Orders.PlaceOrder"]).Errors); // --spec is required
        Assert.NotEmpty(root.Parse(["contracts", "check"]).Errors); // at least one path
    }
}
