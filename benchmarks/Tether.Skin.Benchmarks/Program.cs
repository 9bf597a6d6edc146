using System.Diagnostics;
using System.Globalization;
using Tether.Skin.Benchmarks;

// dotnet run -c Release --project benchmarks/Tether.Skin.Benchmarks -- --skin [--runs 3] [--samples 1000] [--clients 10000]
//   [--sessions N] [--only roundtrip|idle|blazor]
// Internal modes (started by --skin): --idle-server --data DIR; --loadgen WS-URL COUNT; --node ROLE --nats URL --data DB.
#if DEBUG
Console.Error.WriteLine("Run the benchmarks in Release: dotnet run -c Release --project benchmarks/Tether.Skin.Benchmarks -- --skin");
return 2;
#else
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args is ["--idle-server", "--data", string dir])
{
    return await IdleSessions.ServeAsync(dir);
}

if (args is ["--node", string role, "--nats", string natsUrl, "--data", string nodeDb])
{
    return await NodeProcess.ServeAsync(role, natsUrl, nodeDb);
}

if (args is ["--loadgen", string url, string n] && int.TryParse(n, out int count) && count > 0)
{
    return await IdleSessions.LoadAsync(new Uri(url), count);
}

int runs = 3, samples = 1000, warmup = 300, clients = 10_000, sessions = 50;
string? only = null;
bool skin = false;
for (int i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    int Positive(string name) => int.TryParse(Value(), out int v) && v > 0 ? v : throw new ArgumentException($"{name} takes a positive whole number");
    try
    {
        switch (args[i])
        {
            case "--skin": skin = true; break;
            case "--runs": runs = Positive("--runs"); break;
            case "--samples": samples = Positive("--samples"); break;
            case "--warmup": warmup = Positive("--warmup"); break;
            case "--clients": clients = Positive("--clients"); break;
            case "--sessions": sessions = Positive("--sessions"); break;
            case "--only": only = Value() is "roundtrip" or "idle" or "blazor" ? args[i] : throw new ArgumentException("--only takes roundtrip, idle or blazor"); break;
            default: throw new ArgumentException($"unknown flag {args[i]} (argument {i + 1})");
        }
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine($"error: {ex.Message}\nusage: --skin [--runs N] [--samples N] [--warmup N] [--clients N] [--sessions N] [--only roundtrip|idle|blazor]");
        return 2;
    }
}

if (!skin)
{
    Console.Error.WriteLine("usage: --skin [--runs N] [--samples N] [--warmup N] [--clients N] [--sessions N] [--only roundtrip|idle|blazor]");
    return 2;
}

string data = Path.Join(Path.GetTempPath(), $"tether-skinbench-{Environment.ProcessId}");
Directory.CreateDirectory(data);
var rows = new List<(string Scenario, string Unit, List<double> Values)>();
try
{
    if (only is null or "roundtrip")
    {
        foreach (string topology in new[] { "embedded", "nats-3processes" })
        {
            var p50 = new List<double>();
            var p99 = new List<double>();
            for (int r = 1; r <= runs; r++)
            {
                string load = Load();
                double[] s = await RoundTrip.RunAsync(topology, warmup, samples, data);
                Array.Sort(s);
                p50.Add(Percentile(s, 0.50));
                p99.Add(Percentile(s, 0.99));
                Console.Error.WriteLine($"skin-roundtrip {topology} run {r}: p50 {p50[^1]:0.000} ms, p99 {p99[^1]:0.000} ms, min {s[0]:0.000}, max {s[^1]:0.000} ({s.Length} clicks; load before: {load})");
            }

            rows.Add(($"skin-roundtrip-p50 ({topology})", "ms", p50));
            rows.Add(($"skin-roundtrip-p99 ({topology})", "ms", p99));
        }
    }

    if (only is null or "idle")
    {
        var heap = new List<double>();
        var ws = new List<double>();
        for (int r = 1; r <= runs; r++)
        {
            string load = Load();
            var (h, w, empty, loaded) = await IdleSessions.RunAsync(clients, TimeSpan.FromSeconds(12), data);
            heap.Add(h);
            ws.Add(w);
            Console.Error.WriteLine($"skin-idle-session-bytes run {r}: heap {h:0} B/client, working set {w:0} B/client (empty: heap {empty.Heap / 1048576.0:0.0} MiB, ws {empty.WorkingSet / 1048576.0:0.0} MiB; {loaded.Clients} clients: heap {loaded.Heap / 1048576.0:0.0} MiB, ws {loaded.WorkingSet / 1048576.0:0.0} MiB; load before: {load})");
        }

        rows.Add(($"skin-idle-session-bytes heap ({clients} clients)", "B/client", heap));
        rows.Add(($"skin-idle-session-bytes working set ({clients} clients)", "B/client", ws));
    }

    if (only is null or "blazor")
    {
        var p50 = new List<double>();
        var p99 = new List<double>();
        var heap = new List<double>();
        var ws = new List<double>();
        for (int r = 1; r <= runs; r++)
        {
            string load = Load();
            var (s, h, w) = await BlazorBaseline.RunAsync(warmup, samples, sessions, data);
            Array.Sort(s);
            p50.Add(Percentile(s, 0.50));
            p99.Add(Percentile(s, 0.99));
            heap.Add(h);
            ws.Add(w);
            Console.Error.WriteLine($"blazor run {r}: click p50 {p50[^1]:0.000} ms, p99 {p99[^1]:0.000} ms; heap {h:0} B/circuit, working set {w:0} B/circuit ({sessions} Chromium tabs; load before: {load})");
        }

        rows.Add(("blazor-roundtrip-p50 (one process)", "ms", p50));
        rows.Add(("blazor-roundtrip-p99 (one process)", "ms", p99));
        rows.Add(($"blazor-idle-circuit-bytes heap ({sessions} tabs)", "B/client", heap));
        rows.Add(($"blazor-idle-circuit-bytes working set ({sessions} tabs)", "B/client", ws));
    }
}
finally
{
    try { Directory.Delete(data, recursive: true); } catch (IOException) { }
}

Console.WriteLine($"| scenario | unit | median of {runs} runs | min | max |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var (scenario, unit, values) in rows)
{
    values.Sort();
    string f(double v) => unit == "ms" ? v.ToString("0.000") : v.ToString("0");
    Console.WriteLine($"| {scenario} | {unit} | {f(values[values.Count / 2])} | {f(values[0])} | {f(values[^1])} |");
}

return 0;

static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
#endif
