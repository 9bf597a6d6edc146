using System.Diagnostics;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using Tether.Benchmarks.Frameworks;
using Tether.Benchmarks.Frameworks.Remote;
using Tether.Benchmarks.Harness;

namespace Tether.Benchmarks;

internal static class Program
{
    private static readonly (string Name, Func<IBenchSystem> Create)[] s_frameworks =
    [
        ("tether", static () => new TetherBench()),
        ("protoactor", static () => new ProtoActorBench()),
        ("akka", static () => new AkkaBench()),
        (Report.Floor, static () => new FloorBench()),
    ];

    private static readonly (string Name, Func<IRemoteBench> Create)[] s_remoteFrameworks =
    [
        ("tether", static () => new TetherRemoteBench()),
        ("protoactor", static () => new ProtoRemoteBench()),
        ("akka", static () => new AkkaRemoteBench()),
        (Report.Ceiling, static () => new NatsRawBench()),
    ];

    private static readonly RemoteWorkload[] s_remoteWorkloads =
    [
        new RemoteBlastWorkload(2, Scenario.RemoteBlast, Scenario.RemoteBlastCpu, Scenario.RemoteBlastBrokerCpu),
        new RemoteBlastWorkload(3, Scenario.RemoteBlast3, Scenario.RemoteBlast3Cpu, Scenario.RemoteBlast3BrokerCpu),
        new RemoteWindowWorkload(1, Scenario.RemoteWindow1, Scenario.RemoteWindow1Cpu, Scenario.RemoteWindow1BrokerCpu),
        new RemoteWindowWorkload(4, Scenario.RemoteWindow4, Scenario.RemoteWindow4Cpu, Scenario.RemoteWindow4BrokerCpu),
        new RemoteRequestWorkload(),
    ];

    private static readonly Workload[] s_workloads =
    [
        new PingPongWorkload(1, Scenario.PingPong1),
        new ValidatedPingPongWorkload(),
        new UserStylePingPongWorkload(1, Scenario.PingPongUserStyle),
        new UserStylePingPongWorkload(100, Scenario.PingPongUserStyleBatched),
        new PingPongWorkload(4, Scenario.PingPong4),
        new AllocationWorkload(),
        new RequestWorkload(Scenario.RequestP50, Scenario.RequestP99, record: false),
        new RequestWorkload(Scenario.RequestRecordP50, Scenario.RequestRecordP99, record: true),
        new FanoutWorkload(10_000, Scenario.Fanout10K, Scenario.Fanout10KPerMsg),
        new FanoutWorkload(100_000, Scenario.Fanout100K, Scenario.Fanout100KPerMsg),
        new JobsWorkload(),
        new IdlePingPongWorkload(), // a million idle targets: after the light scenarios

        // Last: a million-target runtime takes a while to go away after its shutdown.
        new SpawnTreeWorkload(),
        new SpawnIdleWorkload(),
    ];

    private static async Task<int> Main(string[] args)
    {
        if (args.Contains("--sessions"))
        {
            // Tether only: rights at the mailbox against the same runtime without them (see SessionsBench).
            int at = Array.IndexOf(args, "--rounds");
            int rounds = at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], out int r) && r > 0 ? r : 3;
            int only = Array.IndexOf(args, "--only"); // in-process, remote or storm: one part alone (default: all three)
            string? part = only >= 0 && only + 1 < args.Length ? args[only + 1] : null;
            return await Sessions.SessionsBench.RunAsync(rounds, part, Console.WriteLine);
        }

        CliOptions options;
        bool remote = args.Contains("--remote");
        IReadOnlyList<Scenario> scenarios = remote ? Scenario.Remote : Scenario.All;
        string[] known = remote ? s_remoteFrameworks.Select(f => f.Name).ToArray() : s_frameworks.Select(f => f.Name).ToArray();
        try
        {
            options = CliOptions.Parse(args, scenarios.Select(s => s.Name).ToArray(), known);
        }
        catch (UsageException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}\nRun with --help for the options.");
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(CliOptions.Usage);
            return 0;
        }

        if (options.List)
        {
            foreach (Scenario s in scenarios)
            {
                Console.WriteLine($"{s.Name,-42} {s.Unit,-6} {(s.Better == Better.Higher ? "higher" : "lower"),-7} {s.Description}");
            }

            return 0;
        }

        if (IsDebugBuild(typeof(Node).Assembly) || IsDebugBuild(typeof(Program).Assembly))
        {
            await Console.Error.WriteLineAsync("error: this is a Debug build; benchmarks only mean something in Release: dotnet run -c Release --project benchmarks/Tether.Benchmarks");
            return 2;
        }

        string[] frameworks = options.Frameworks.Count > 0 ? [.. options.Frameworks] : known;
        HashSet<string> wanted = options.Scenarios.Count > 0 ? [.. options.Scenarios] : scenarios.Select(s => s.Name).ToHashSet();
        foreach ((Scenario ratio, Scenario of, Scenario per) in Scenario.Derived.Where(d => wanted.Contains(d.Ratio.Name)))
        {
            wanted.Add(of.Name);
            wanted.Add(per.Name);
        }

        Console.WriteLine(MachineLine(options.Quick, remote));
        Console.Out.Flush();
        var results = new List<Result>();
        var notes = new List<string>();
        Stopwatch total = Stopwatch.StartNew();
        foreach (IWorkload workload in remote ? (IWorkload[])s_remoteWorkloads : s_workloads)
        {
            Scenario[] selected = workload.Scenarios.Where(s => wanted.Contains(s.Name)).ToArray();
            if (selected.Length == 0)
            {
                continue;
            }

            if (options.Quick && workload.QuickNote is { } note)
            {
                notes.Add(note);
            }

            (int warmupDefault, int iterationsDefault) = workload.DefaultCounts(options.Quick);
            var plan = new Plan(options.Warmup ?? warmupDefault, options.Iterations ?? iterationsDefault, options.Quick, options.TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : null);
            foreach (string framework in frameworks)
            {
                if (framework == Report.Floor && workload is not PingPongWorkload)
                {
                    continue; // the floor is a bare mailbox: only ping-pong
                }

                Log($"[{framework}] {string.Join(" + ", selected.Select(s => s.Name))} ({plan.Warmup} warm-up, {plan.Iterations} measured)");
                Stopwatch watch = Stopwatch.StartNew();
                try
                {
                    WorkloadResult outcome = workload switch
                    {
                        Workload local => await local.RunAsync(s_frameworks.Single(f => f.Name == framework).Create, plan, Log),
                        RemoteWorkload two => await two.RunAsync(s_remoteFrameworks.Single(f => f.Name == framework).Create, plan, Log),
                        _ => throw new InvalidOperationException($"unknown workload {workload.GetType().Name}"),
                    };
                    results.AddRange(selected.Select(s => new Result(s, framework, outcome.Samples[s], null, outcome.Hangs)));
                }
                catch (Exception ex)
                {
                    Log($"  FAILED: {ex.GetType().Name}: {ex.Message}");
                    results.AddRange(selected.Select(s => new Result(s, framework, [], $"{ex.GetType().Name}: {ex.Message}", 0)));
                }

                Log($"  ({watch.Elapsed.TotalSeconds:0.0} s)");
                if (!Measure.WaitForQuietHeap(64_000_000, TimeSpan.FromSeconds(options.Quick ? 5 : 30)))
                {
                    Log($"  (the heap is still {GC.GetTotalMemory(false) / 1e6:0} MB, {Measure.Floor / 1e6:0} MB at its lowest; going on)");
                }
            }
        }

        foreach ((Scenario ratio, Scenario of, Scenario per) in Scenario.Derived.Where(d => wanted.Contains(d.Ratio.Name)))
        {
            foreach (string framework in frameworks)
            {
                Result? top = results.FirstOrDefault(r => r.Scenario == of && r.Framework == framework && r.Median is not null);
                Result? bottom = results.FirstOrDefault(r => r.Scenario == per && r.Framework == framework && r.Median is > 0);
                if (top is not null && bottom is not null)
                {
                    results.Add(new Result(ratio, framework, top.Samples.Select(v => v / bottom.Median!.Value).ToArray(), null, 0));
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Medians (± is half the min–max range relative to the median); total {total.Elapsed.TotalSeconds:0} s.");
        Console.WriteLine(Report.Table(results, frameworks));
        notes.ForEach(n => Console.WriteLine($"Note: {n}"));
        foreach (Result hung in results.Where(r => r.Hangs > 0).DistinctBy(r => (r.Framework, r.Samples)))
        {
            Console.WriteLine($"Note: {hung.Framework} hung {hung.Hangs} time(s) in {hung.Scenario.Name}: an iteration did not end within the timeout; the runtime was restarted and the iteration run again.");
        }
        if (options.JsonPath is { } path)
        {
            Report.WriteJson(path, results);
            Console.WriteLine($"Wrote {path}.");
        }

        return results.Any(r => r.Error is not null) ? 1 : 0;
    }

    private static void Log(string line)
    {
        Console.Error.WriteLine(line);
        Console.Error.Flush();
    }

    private static bool IsDebugBuild(Assembly assembly) => assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled ?? false;

    private static string MachineLine(bool quick, bool remote)
    {
        string cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return $"{(quick ? "quick" : "full")}{(remote ? " remote" : "")} run; {Environment.ProcessorCount} cores, {cpu}, {RuntimeInformation.FrameworkDescription}, " +
            $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC, {RuntimeInformation.OSDescription}";
    }
}
