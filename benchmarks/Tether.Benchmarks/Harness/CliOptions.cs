using System.Globalization;

namespace Tether.Benchmarks.Harness;

/// <summary>The command line, parsed. A bad flag is a <see cref="UsageException"/> (exit code 2).</summary>
internal sealed record CliOptions
{
    public const string Usage = """
        Usage: Tether.Benchmarks [options]

        Runs the same scenarios on Tether, Proto.Actor and Akka.NET and prints a table of medians
        with the ratio of Tether to the best peer.

        Options:
          --sessions           Tether only: rights at the mailbox (protected-request vs request, an uncached
                               verification across nodes vs a remote request, verify p99 during a login storm);
                               --rounds N full rounds (default 3), medians printed as a table
          --remote             the two-node scenarios instead: tether over NATS (a nats-server is started on a free
                               loopback port), protoactor (Proto.Remote, gRPC), akka (Akka.Remote, DotNetty TCP) and
                               nats-raw (NATS.Net alone: the ceiling, not a peer)
          --quick              small sizes and few iterations; the whole run takes under 3 minutes
          --scenario NAME      run only this scenario (repeatable); see --list
          --framework NAME     run only this framework (repeatable): tether, protoactor, akka (--remote: also nats-raw)
          --json PATH          also write the medians as JSON: [{"scenario","framework","value","unit"}]
          --iterations N       measured iterations per scenario (default 5, quick 3; --remote: 7, quick 5)
          --warmup N           warm-up iterations per scenario (default 2, quick 1)
          --timeout SECONDS    an iteration running longer counts as a hang (default 10; 60 for jobs and --remote, 300 for spawn)
          --list               list the scenarios and exit
          -h, --help           show this text and exit
        """;

    public bool Quick { get; init; }

    public bool Remote { get; init; }

    public IReadOnlyList<string> Scenarios { get; init; } = [];

    public IReadOnlyList<string> Frameworks { get; init; } = [];

    public string? JsonPath { get; init; }

    public int? Iterations { get; init; }

    public int? Warmup { get; init; }

    public int? TimeoutSeconds { get; init; }

    public bool List { get; init; }

    public bool Help { get; init; }

    public static CliOptions Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> knownScenarios, IReadOnlyCollection<string> knownFrameworks)
    {
        var options = new CliOptions();
        var scenarios = new List<string>();
        var frameworks = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "--quick":
                    options = options with { Quick = true };
                    break;
                case "--remote":
                    options = options with { Remote = true };
                    break;
                case "--list":
                    options = options with { List = true };
                    break;
                case "-h" or "--help":
                    options = options with { Help = true };
                    break;
                case "--scenario":
                    string scenario = Value(args, ref i);
                    if (!knownScenarios.Contains(scenario))
                    {
                        throw new UsageException($"unknown scenario '{scenario}'; known: {string.Join(", ", knownScenarios)}.");
                    }

                    scenarios.Add(scenario);
                    break;
                case "--framework":
                    string framework = Value(args, ref i);
                    if (!knownFrameworks.Contains(framework))
                    {
                        throw new UsageException($"unknown framework '{framework}'; known: {string.Join(", ", knownFrameworks)}.");
                    }

                    frameworks.Add(framework);
                    break;
                case "--json":
                    options = options with { JsonPath = Value(args, ref i) };
                    break;
                case "--iterations":
                    options = options with { Iterations = Count(args, ref i, min: 1) };
                    break;
                case "--timeout":
                    options = options with { TimeoutSeconds = Count(args, ref i, min: 1) };
                    break;
                case "--warmup":
                    options = options with { Warmup = Count(args, ref i, min: 0) };
                    break;
                default:
                    throw new UsageException(arg.StartsWith('-')
                        ? $"unknown option '{arg}'."
                        : $"unexpected argument '{arg}' (options start with --).");
            }
        }

        return options with { Scenarios = scenarios.Distinct().ToArray(), Frameworks = frameworks.Distinct().ToArray() };
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        string flag = args[i];
        if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new UsageException($"{flag} needs a value.");
        }

        return args[++i];
    }

    private static int Count(IReadOnlyList<string> args, ref int i, int min)
    {
        string flag = args[i];
        string text = Value(args, ref i);
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min)
        {
            throw new UsageException($"{flag} needs a whole number of at least {min}; got '{text}'.");
        }

        return n;
    }
}

/// <summary>A command-line mistake: the message is shown with the usage hint, and the exit code is 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
