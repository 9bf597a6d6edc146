using System.Diagnostics;
using System.Net.WebSockets;
using System.Runtime;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tether.Demo;

namespace Tether.Skin.Benchmarks;

/// <summary>
/// skin-idle-session-bytes: one web node process (--idle-server) and a load generator process (--loadgen; the 20,000
/// open-files limit per process rules out both in one) holding N WebSockets, each with the bench dialog open and
/// answering pings. The server's managed heap after a full compacting GC and its working set, minus the same server
/// with no client, divided by N.
/// </summary>
internal static class IdleSessions
{
    public sealed record Memory(long Heap, long WorkingSet, int Clients, int OpenDialogs);

    /// <summary>The web node process: prints "PORT n", serves /bench/memory, ends when stdin closes.</summary>
    public static async Task<int> ServeAsync(string dataDir)
    {
        await using Node node = Node.Create(new NodeOptions { Name = "web", Adapters = DemoApp.CreateAdapters() });
        DemoApp.Start(node, DemoRoles.Supplier, new DemoOptions { DatabasePath = Path.Join(dataDir, $"idle-{Environment.ProcessId}.db") });
        node.RegisterDialog(BenchDialog.Name, () => new BenchDialog());
        SkinServer? skin = null;
        await using WebHost host = await WebHost.StartAsync(node, app => app.MapGet("/bench/memory", () =>
        {
            for (int i = 0; i < 3; i++)
            {
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
            }

            using var self = Process.GetCurrentProcess();
            return Results.Json(new Memory(LiveHeapBytes(), self.WorkingSet64, skin!.Statistics.Clients, skin.Statistics.OpenDialogs));
        }));
        skin = host.Server;
        Console.WriteLine($"PORT {host.BaseUri.Port}");
        await Console.In.ReadToEndAsync();
        return 0;
    }

    /// <summary>The load generator process: opens <paramref name="count"/> clients, prints "READY n", closes them when stdin closes.</summary>
    public static async Task<int> LoadAsync(Uri socket, int count)
    {
        var sockets = new ClientWebSocket[count];
        var loops = new List<Task>(count);
        using var stop = new CancellationTokenSource();
        using var gate = new SemaphoreSlim(64);
        var opening = new List<Task>(count);
        int failed = 0;
        string? firstError = null;
        for (int i = 0; i < count; i++)
        {
            int index = i;
            await gate.WaitAsync();
            opening.Add(Task.Run(async () =>
            {
                try
                {
                    var ws = new ClientWebSocket();
                    ws.Options.KeepAliveInterval = Timeout.InfiniteTimeSpan;
                    sockets[index] = ws;
                    using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                    await ws.ConnectAsync(socket, deadline.Token);
                    byte[] buffer = new byte[4096];
                    await Expect(ws, buffer, "welcome", deadline.Token);
                    await ws.SendAsync(Encoding.UTF8.GetBytes($$"""{"t":"open","dialog":"{{BenchDialog.Name}}","ref":"r1"}"""), WebSocketMessageType.Text, true, deadline.Token);
                    await Expect(ws, buffer, "opened", deadline.Token);
                    await Expect(ws, buffer, "patch", deadline.Token);
                    lock (loops)
                    {
                        loops.Add(AnswerPingsAsync(ws, buffer, stop.Token));
                    }
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, ex.Message, null);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await Task.WhenAll(opening);
        Console.WriteLine(failed == 0 ? $"READY {count}" : $"FAILED {failed} of {count}: {firstError}");
        await Console.In.ReadToEndAsync();
        stop.Cancel();
        foreach (ClientWebSocket? ws in sockets)
        {
            ws?.Abort();
            ws?.Dispose();
        }

        return failed == 0 ? 0 : 1;
    }

    private static async Task Expect(ClientWebSocket ws, byte[] buffer, string type, CancellationToken cancellation)
    {
        while (true)
        {
            string frame = await ReceiveAsync(ws, buffer, cancellation);
            string t = JsonDocument.Parse(frame).RootElement.GetProperty("t").GetString()!;
            if (t == type)
            {
                return;
            }

            if (t == "ping")
            {
                await ws.SendAsync("""{"t":"pong"}"""u8.ToArray(), WebSocketMessageType.Text, true, cancellation);
                continue;
            }

            throw new InvalidOperationException($"expected \"{type}\", got {frame}");
        }
    }

    private static async Task<string> ReceiveAsync(ClientWebSocket ws, byte[] buffer, CancellationToken cancellation)
    {
        int count = 0;
        while (true)
        {
            WebSocketReceiveResult r = await ws.ReceiveAsync(new ArraySegment<byte>(buffer, count, buffer.Length - count), cancellation);
            if (r.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"the server closed the socket: {r.CloseStatus} {r.CloseStatusDescription}");
            }

            count += r.Count;
            if (r.EndOfMessage)
            {
                return Encoding.UTF8.GetString(buffer, 0, count);
            }

            if (count == buffer.Length)
            {
                throw new InvalidOperationException("a frame over 4 KB");
            }
        }
    }

    private static async Task AnswerPingsAsync(ClientWebSocket ws, byte[] buffer, CancellationToken cancellation)
    {
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                string frame = await ReceiveAsync(ws, buffer, cancellation);
                if (frame.Contains("\"ping\"", StringComparison.Ordinal))
                {
                    await ws.SendAsync("""{"t":"pong"}"""u8.ToArray(), WebSocketMessageType.Text, true, cancellation);
                }
            }
        }
        catch (Exception) when (cancellation.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"loadgen: a client lost its socket: {ex.Message}");
        }
    }

    /// <summary>One run: start the server, measure it empty (after one warm-up client), start the load generator, measure again.</summary>
    public static async Task<(double HeapPerClient, double WorkingSetPerClient, Memory Empty, Memory Loaded)> RunAsync(int clients, TimeSpan settle, string dataDir)
    {
        string self = Path.Join(AppContext.BaseDirectory, "Tether.Skin.Benchmarks");
        using Process server = Start(self, $"--idle-server --data {dataDir}");
        Process? load = null;
        try
        {
            string portLine = await ReadLineAsync(server, TimeSpan.FromSeconds(60), "the idle server's PORT line");
            int port = int.Parse(portLine.AsSpan("PORT ".Length), System.Globalization.CultureInfo.InvariantCulture);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(120) };
            var socket = new Uri($"ws://127.0.0.1:{port}/skin/ws?app={BenchDialog.Name}");

            // Warm-up: one client through the whole path, so JIT'd code and first-use caches are in the empty figure.
            using (Process warm = Start(self, $"--loadgen {socket} 10"))
            {
                string ready = await ReadLineAsync(warm, TimeSpan.FromSeconds(60), "the warm-up load generator");
                if (!ready.StartsWith("READY", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"warm-up: {ready}");
                }

                warm.StandardInput.Close();
                await warm.WaitForExitAsync();
            }

            await WaitForAsync(http, m => m.Clients == 0, TimeSpan.FromSeconds(30), "the warm-up clients ended");
            await Task.Delay(settle);
            Memory empty = await MeasureAsync(http);

            load = Start(self, $"--loadgen {socket} {clients}");
            string line = await ReadLineAsync(load, TimeSpan.FromMinutes(5), "the load generator's READY line");
            if (!line.StartsWith("READY", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"load generator: {line}");
            }

            // Past one ping round (the server pings every 5 s), so what a live idle connection holds is in the figure.
            await Task.Delay(settle);
            Memory loaded = await MeasureAsync(http);
            if (loaded.Clients != clients || loaded.OpenDialogs != clients)
            {
                throw new InvalidOperationException($"the server counts {loaded.Clients} clients and {loaded.OpenDialogs} dialogs, not {clients}");
            }

            return ((loaded.Heap - empty.Heap) / (double)clients, (loaded.WorkingSet - empty.WorkingSet) / (double)clients, empty, loaded);
        }
        finally
        {
            if (load is not null)
            {
                try { load.StandardInput.Close(); } catch (IOException) { }
                if (!load.WaitForExit(30_000)) { load.Kill(entireProcessTree: true); }
                load.Dispose();
            }

            try { server.StandardInput.Close(); } catch (IOException) { }
            if (!server.WaitForExit(30_000)) { server.Kill(entireProcessTree: true); }
        }
    }

    /// <summary>The managed heap after the last (full, compacting) collection, less its free space.</summary>
    internal static long LiveHeapBytes()
    {
        GCMemoryInfo info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        return info.HeapSizeBytes - info.FragmentedBytes;
    }

    private static async Task<Memory> MeasureAsync(HttpClient http)
        => (await http.GetFromJsonAsyncSafe("/bench/memory"))!;

    private static async Task<Memory?> GetFromJsonAsyncSafe(this HttpClient http, string path)
    {
        string body = await http.GetStringAsync(path);
        return JsonSerializer.Deserialize<Memory>(body, new JsonSerializerOptions(JsonSerializerDefaults.Web));
    }

    private static async Task WaitForAsync(HttpClient http, Func<Memory, bool> condition, TimeSpan deadline, string what)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition((await http.GetFromJsonAsyncSafe("/bench/memory"))!))
        {
            if (Stopwatch.GetElapsedTime(start) > deadline)
            {
                throw new InvalidOperationException($"not within {deadline.TotalSeconds:0} s: {what}");
            }

            await Task.Delay(200);
        }
    }

    internal static Process Start(string exe, string args)
    {
        var info = new ProcessStartInfo(exe, args) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {exe}");
    }

    internal static async Task<string> ReadLineAsync(Process process, TimeSpan deadline, string what)
    {
        using var cts = new CancellationTokenSource(deadline);
        try
        {
            return await process.StandardOutput.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException($"{what}: the process ended (exit code {(process.HasExited ? process.ExitCode : -1)})");
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"{what}: nothing within {deadline.TotalSeconds:0} s");
        }
    }
}
