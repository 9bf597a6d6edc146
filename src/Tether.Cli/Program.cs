using System.CommandLine;
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
        root.Subcommands.Add(PodsCommand.Build());
        ParseResult parse = root.Parse(args);
        return await parse.InvokeAsync();
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
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError($"--jobs must be at least 1; it is {result.GetValueOrDefault<int>()}.");
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
