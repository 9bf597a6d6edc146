using Microsoft.Playwright;

namespace Tether.Testing;

/// <summary>
/// One headless Debian Chromium per test class (fresh contexts per test or per browser "user"), driven by Playwright.
/// Fails clearly when it is missing; it never skips. Linked into the browser test projects (Skin, Demo, Pods).
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            Assert.Fail($"The browser tests need Debian's Chromium at {ExecutablePath}: apt-get install -y chromium (scripts/test.sh installs it).");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ExecutablePath, Headless = true, Args = ["--no-sandbox"] });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
    }

    private static readonly Lazy<string> s_screenshots = new(() =>
    {
        // Emptied once per test run, so what is there belongs to this run.
        string dir = Path.Combine(AppContext.BaseDirectory, "artifacts", "screenshots");
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        Directory.CreateDirectory(dir);
        return dir;
    });

    /// <summary>Where screenshots go: the test project's output folder, artifacts/screenshots (bin/Release/net10.0/artifacts/screenshots).</summary>
    public static string ScreenshotPath(string test, string step) => Path.Combine(s_screenshots.Value, $"{test}-{step}.png");
}
