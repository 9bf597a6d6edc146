using System.CommandLine;
using Tether.Adapters;

namespace Tether.Cli;

/// <summary>
/// <c>tether contracts check PATH...</c> validates contract specs offline (errors as <c>file:line:col: message</c>; exit 0
/// when all are valid, 1 otherwise); <c>tether contracts explain TYPE --spec PATH...</c> tells in plain words what the
/// mailbox does with a message type.
/// </summary>
internal static class ContractsCommand
{
    public static Command Build()
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Spec files, or directories whose *.yaml and *.yml files are read recursively.",
            Arity = ArgumentArity.OneOrMore,
        };
        var check = new Command("check", "Validate contract specs without running anything: syntax, rule shapes, bounds, patterns, duplicates.")
        {
            paths,
        };
        check.SetAction(parse => Check(parse.GetValue(paths)!, Console.Out));

        var type = new Argument<string>("TYPE") { Description = "The contract name of the message type, as written after 'message:' (for example Orders.PlaceOrder)." };
        var specs = new Option<string[]>("--spec")
        {
            Description = "Spec files or directories to read.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        var explain = new Command("explain", "Print the effective pipe of a message type in plain words: defaults, rules in order, mappings, what a sender sees.")
        {
            type,
            specs,
        };
        explain.SetAction(parse => Explain(parse.GetValue(type)!, parse.GetValue(specs)!, Console.Out));

        return new Command("contracts", "Check and explain declarative message contracts (adapters).")
        {
            check,
            explain,
        };
    }

    public static int Check(IReadOnlyList<string> paths, TextWriter output)
    {
        SpecReadResult result = ContractSpecReader.ReadPaths(paths);
        foreach (SpecError error in result.Errors)
        {
            output.WriteLine(error.ToString());
        }

        int files = paths.Sum(p => ContractSpecReader.ExpandPath(p, []).Count);
        string contracts = result.Specs.Count == 1 ? "1 contract" : $"{result.Specs.Count} contracts";
        string inFiles = files == 1 ? "1 file" : $"{files} files";
        if (result.IsValid)
        {
            output.WriteLine($"ok: {contracts} in {inFiles}");
            return 0;
        }

        output.WriteLine($"{result.Errors.Count} error{(result.Errors.Count == 1 ? "" : "s")} in {inFiles}");
        return 1;
    }

    public static int Explain(string type, IReadOnlyList<string> specPaths, TextWriter output)
    {
        SpecReadResult result = ContractSpecReader.ReadPaths(specPaths);
        if (!result.IsValid)
        {
            foreach (SpecError error in result.Errors)
            {
                output.WriteLine(error.ToString());
            }

            output.WriteLine("The specs have errors; fix them first (tether contracts check).");
            return 1;
        }

        string? text = ContractExplainer.Explain(type, result.Specs);
        if (text is null)
        {
            string known = result.Specs.Count == 0 ? "none" : string.Join(", ", result.Specs.Select(s => s.Message).Order(StringComparer.Ordinal));
            output.WriteLine($"No contract or mapping names {type}. The specs define: {known}.");
            return 1;
        }

        output.Write(text);
        return 0;
    }
}
