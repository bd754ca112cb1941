using Microsoft.Playwright;

namespace Conduit.Dashboard.Tests;

/// <summary>
/// Debian's Chromium, driven headless by Playwright (which cannot download its own browsers on these machines). The
/// flags keep it off the network: without the background-networking ones the closed network refuses its connections.
/// No browser is a failure, never a skip: CI installs it (<c>.ci/run</c>), and a developer is told how.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    public static readonly string[] Flags =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ];

    private readonly IPlaywright _playwright;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    /// <summary>Where tests save screenshots: <c>screenshots/</c> beside the test assembly.</summary>
    public static string ScreenshotDirectory { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;

    public static async Task<Chromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException(
                $"the dashboard's browser tests need Chromium at {ExecutablePath}: install it with `apt-get install -y chromium` " +
                "(CI's .ci/run does). These tests never skip themselves.");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = Flags,
            Timeout = 60_000,
        });
        return new Chromium(playwright, browser);
    }

    /// <summary>A fresh context (own cookies) with a page 1280 wide; confirm dialogs are accepted.</summary>
    public async Task<IPage> NewPageAsync(Uri baseUrl)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        _playwright.Dispose();
    }
}
