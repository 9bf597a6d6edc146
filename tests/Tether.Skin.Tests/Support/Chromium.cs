using Microsoft.Playwright;

namespace Tether.Skin.Tests.Support;

/// <summary>One headless Debian Chromium per test class (fresh contexts per test). Fails clearly when it is missing.</summary>
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

    /// <summary>Where screenshots go: bin/.../artifacts/screenshots.</summary>
    public static string ScreenshotPath(string test, string step)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "artifacts", "screenshots");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, $"{test}-{step}.png");
    }
}
