using System.Text.Json;
using Microsoft.Playwright;
using Tether.Demo;

namespace Tether.Skin.Benchmarks;

/// <summary>
/// skin-roundtrip: a click in headless Chromium until the DOM shows the dialog's answer, which needed a request to the
/// demo supplier. Timed in the page: performance.now() at the click's dispatch until a MutationObserver sees the new
/// answer, so Playwright's own round trip is not in the figure.
/// </summary>
internal static class RoundTrip
{
    public const string ChromiumPath = "/usr/bin/chromium";

    // Runs in the page: n sequential clicks, each timed from dispatch until the answer's text changed.
    internal const string ClickLoop = """
        async (n) => {
          const samples = [];
          for (let i = 0; i < n; i++) {
            const answer = document.querySelector('[data-key=answer]');
            const before = answer.textContent;
            const done = new Promise((resolve, reject) => {
              const timer = setTimeout(() => { observer.disconnect(); reject(new Error('no answer within 10 s at click ' + i)); }, 10000);
              const observer = new MutationObserver(() => {
                const now = document.querySelector('[data-key=answer]');
                if (now && now.textContent !== before) { const t = performance.now(); observer.disconnect(); clearTimeout(timer); resolve(t); }
              });
              observer.observe(document.body, { subtree: true, childList: true, characterData: true });
            });
            const t0 = performance.now();
            document.querySelector('[data-key=go]').click();
            const t1 = await done;
            samples.push(t1 - t0);
          }
          return samples;
        }
        """;

    /// <summary>One run: warm-up clicks, then <paramref name="samples"/> timed ones; the samples in ms.</summary>
    public static async Task<double[]> RunAsync(string topology, int warmup, int samples, string dataDir)
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"skin-roundtrip needs Debian's Chromium at {ChromiumPath}: apt-get install -y chromium.");
        }

        var cleanup = new List<Func<ValueTask>>();
        try
        {
            string db = Path.Join(dataDir, $"bench-{Guid.NewGuid():N}.db");
            Uri page;
            if (topology == "embedded")
            {
                Node web = Node.Create(new NodeOptions { Name = "web", Adapters = DemoApp.CreateAdapters() });
                cleanup.Add(web.DisposeAsync);
                DemoApp.Start(web, DemoRoles.Supplier, new DemoOptions { DatabasePath = db });
                web.RegisterDialog(BenchDialog.Name, () => new BenchDialog());
                WebHost host = await WebHost.StartAsync(web);
                cleanup.Add(host.DisposeAsync);
                page = host.Page;
            }
            else
            {
                // Three node processes (supplier, dialogs, web) over one real nats-server, as the demo deploys them.
                (page, Func<ValueTask> stop) = await NodeProcess.StartAsync(db);
                cleanup.Add(stop);
            }

            using IPlaywright playwright = await Playwright.CreateAsync();
            await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
            IPage tab = await browser.NewPageAsync();
            await tab.GotoAsync(page.ToString());
            await tab.Locator("[data-key=answer]").WaitForAsync(new() { Timeout = 15_000 });
            await tab.EvaluateAsync<JsonElement>(ClickLoop, warmup);
            JsonElement measured = await tab.EvaluateAsync<JsonElement>(ClickLoop, samples);
            string last = await tab.Locator("[data-key=answer]").TextContentAsync() ?? "";
            if (!last.StartsWith($"{warmup + samples}:", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The page shows \"{last}\", not the answer to click {warmup + samples}.");
            }

            return [.. measured.EnumerateArray().Select(e => e.GetDouble())];
        }
        finally
        {
            foreach (Func<ValueTask> step in Enumerable.Reverse(cleanup))
            {
                try { await step(); } catch (Exception ex) { Console.Error.WriteLine($"cleanup: {ex.Message}"); }
            }
        }
    }
}
