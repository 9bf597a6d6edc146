using System.CommandLine;
using System.Globalization;
using Tether.Cli.Hashing;
using Tether.Cli.Pods;

namespace Tether.Cli;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("tether: the Tether runtime's command line.");
        root.Subcommands.Add(BuildHash());
        root.Subcommands.Add(ContractsCommand.Build());
        root.Subcommands.Add(NodeCommand.Build());
        root.Subcommands.Add(UsersCommand.Build(Console.In, Console.Out, Console.Error));
        root.Subcommands.Add(DemoCommand.Build());
        root.Subcommands.Add(PodsCommand.Build());
        // Every verb turns bad input into a message naming what is wrong; this net only keeps a defect from printing a
        // stack trace at a user (set TETHER_DEBUG=1 to see it).
        ParseResult? parse = null;
        try
        {
            parse = root.Parse(args);
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        catch (Exception ex)
        {
            string verb = parse is null || parse.CommandResult.Command == root ? "tether" : $"tether {parse.CommandResult.Command.Name}";
            await Console.Error.WriteLineAsync(Environment.GetEnvironmentVariable("TETHER_DEBUG") == "1"
                ? $"{verb}: {ex}"
                : $"{verb}: {ex.Message} ({ex.GetType().Name}; set TETHER_DEBUG=1 for details)");
            return 1;
        }
    }

    private static Command BuildHash()
    {
        var directory = new Argument<string>("DIR") { Description = "The directory whose regular files are hashed (symbolic links are not followed)." };
        var jobs = new Option<int>("--jobs", "-j")
        {
            Description = "How many jobs run at once (a job lists a directory, hashes a chunk of its small files, or hashes one file over 1 MiB).",
            DefaultValueFactory = _ => Environment.ProcessorCount * 2,
        };
        jobs.Validators.Add(result =>
        {
            // A value that is not a number is reported by the parser itself; reading it here would throw.
            if (result.Tokens.Count > 0 && int.TryParse(result.Tokens[^1].Value, CultureInfo.InvariantCulture, out int value) && value < 1)
            {
                result.AddError($"--jobs must be at least 1; it is {value}.");
            }
        });

        var command = new Command("hash", "Print the SHA-256 of every regular file under DIR, exactly as sha256sum does, sorted by path.")
        {
            directory,
            jobs,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            string dir = parse.GetValue(directory)!;
            if (!Directory.Exists(dir))
            {
                await Console.Error.WriteLineAsync($"tether hash: '{dir}' is not a directory.");
                return 2;
            }

            return await HashCommand.RunAsync(dir, parse.GetValue(jobs), Console.OpenStandardOutput(), Console.Error, showProgress: !Console.IsErrorRedirected, cancellation);
        });
        return command;
    }
}
