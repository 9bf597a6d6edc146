using Microsoft.Playwright;

namespace Tether.Pods.Tests;

/// <summary>One headless Debian Chromium shared by the layouts' journeys (a fresh context per test). Fails clearly when it is missing.</summary>
public sealed class PodsBrowser : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

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

    private IPlaywright? _playwright;

    public IBrowser Chromium { get; private set; } = null!;

    /// <summary>Where screenshots go: tests/Tether.Pods.Tests/bin/Release/net10.0/artifacts/screenshots.</summary>
    public static string ScreenshotPath(string test, string step) => Path.Combine(s_screenshots.Value, $"{test}-{step}.png");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            Assert.Fail($"The pods' browser journeys need Debian's Chromium at {ExecutablePath}: apt-get install -y chromium (scripts/test.sh installs it).");
        }

        _playwright = await Playwright.CreateAsync();
        Chromium = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ExecutablePath, Headless = true, Args = ["--no-sandbox"] });
    }

    public async Task DisposeAsync()
    {
        if (Chromium is not null)
        {
            await Chromium.CloseAsync();
        }

        _playwright?.Dispose();
    }
}
