using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;

namespace Tether.Skin.Benchmarks;

/// <summary>
/// The same bench page as a minimal Blazor Server app (benchmarks/Tether.Skin.Blazor, its own process): the click round
/// trip, timed in the page as for RemoteSkin, and server memory per circuit for <c>sessions</c> Chromium tabs (Blazor's
/// circuit start needs its JS client, so no raw WebSocket load generator here).
/// </summary>
internal static class BlazorBaseline
{
    public static async Task<(double[] Clicks, double HeapPerCircuit, double WorkingSetPerCircuit)> RunAsync(int warmup, int samples, int sessions, string dataDir)
    {
        string exe = Path.GetFullPath(Path.Join(AppContext.BaseDirectory, "../../../../Tether.Skin.Blazor/bin/Release/net10.0/Tether.Skin.Blazor"));
        if (!File.Exists(exe))
        {
            throw new InvalidOperationException($"The Blazor baseline is not built at {exe}: dotnet build -c Release benchmarks/Tether.Skin.Blazor");
        }

        var info = new ProcessStartInfo(exe, $"--data {dataDir}") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(exe)! };
        using Process server = Process.Start(info) ?? throw new InvalidOperationException($"could not start {exe}");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string line = await server.StandardOutput.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("the Blazor server ended before printing its port");
            var baseUri = new Uri($"http://127.0.0.1:{line["PORT ".Length..]}/");
            using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(120) };

            using IPlaywright playwright = await Playwright.CreateAsync();
            await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = RoundTrip.ChromiumPath, Headless = true, Args = ["--no-sandbox"] });

            // The click round trip on one tab (this also warms the server up for the empty figure).
            IPage page = await browser.NewPageAsync();
            await page.GotoAsync(baseUri.ToString());
            await page.Locator("[data-key=live]").Filter(new() { HasText = "live" }).WaitForAsync(new() { Timeout = 30_000 });
            await page.EvaluateAsync<JsonElement>(RoundTrip.ClickLoop, warmup);
            JsonElement measured = await page.EvaluateAsync<JsonElement>(RoundTrip.ClickLoop, samples);
            string last = await page.Locator("[data-key=answer]").TextContentAsync() ?? "";
            if (!last.StartsWith($"{warmup + samples}:", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Blazor: the page shows \"{last}\", not the answer to click {warmup + samples}.");
            }

            double[] clicks = [.. measured.EnumerateArray().Select(e => e.GetDouble())];
            await page.CloseAsync();
            await WaitForAsync(http, 0);
            await Task.Delay(TimeSpan.FromSeconds(5));
            JsonElement empty = await MeasureAsync(http);

            var pages = new List<IPage>();
            for (int i = 0; i < sessions; i++)
            {
                IPage p = await browser.NewPageAsync();
                await p.GotoAsync(baseUri.ToString());
                await p.Locator("[data-key=live]").Filter(new() { HasText = "live" }).WaitForAsync(new() { Timeout = 30_000 });
                pages.Add(p);
            }

            await WaitForAsync(http, sessions);
            await Task.Delay(TimeSpan.FromSeconds(12));
            JsonElement loaded = await MeasureAsync(http);
            if (loaded.GetProperty("clients").GetInt32() != sessions)
            {
                throw new InvalidOperationException($"Blazor counts {loaded.GetProperty("clients").GetInt32()} circuits, not {sessions}");
            }

            double heap = (loaded.GetProperty("heap").GetInt64() - empty.GetProperty("heap").GetInt64()) / (double)sessions;
            double ws = (loaded.GetProperty("workingSet").GetInt64() - empty.GetProperty("workingSet").GetInt64()) / (double)sessions;
            return (clicks, heap, ws);
        }
        finally
        {
            try { server.StandardInput.Close(); } catch (IOException) { }
            if (!server.WaitForExit(30_000)) { server.Kill(entireProcessTree: true); }
        }
    }

    private static async Task<JsonElement> MeasureAsync(HttpClient http) => JsonDocument.Parse(await http.GetStringAsync("bench/memory")).RootElement.Clone();

    private static async Task WaitForAsync(HttpClient http, int circuits)
    {
        long start = Stopwatch.GetTimestamp();
        while ((await MeasureAsync(http)).GetProperty("clients").GetInt32() != circuits)
        {
            if (Stopwatch.GetElapsedTime(start) > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"Blazor did not reach {circuits} open circuits within 60 s");
            }

            await Task.Delay(500);
        }
    }
}
