using System.Net;
using Conduit.Protocol;
using Conduit.Testing;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Conduit.Dashboard.Tests;

/// <summary>The schedules page of a node without API keys, in a real headless Chromium, against a real node on SQLite.</summary>
public sealed class ScheduleDashboardTests(OpenNodeFixture fixture, ITestOutputHelper output) : IClassFixture<OpenNodeFixture>
{
    private TestNode Node => fixture.Node;

    /// <summary>How the pages print a time (dashboard.js <c>time</c>).</summary>
    private static string Shown(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + "Z";

    [Fact(DisplayName = "the schedules page lists a namespace's schedules with their timing and next due time; pause, resume, run now and delete act on the schedule as the protocol reports it")]
    public async Task Schedules()
    {
        // Due times far enough ahead that none runs during the test (the cron's is a 29 February): only "run now" enqueues.
        var startAt = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 60_000 + 120) * 60_000;
        var task = new TaskSpec("report"u8.ToArray());
        await Node.Manage<ScheduleInfo>(new PutSchedule("hourly-report", new ScheduleSpec("reports", task, IntervalMs: 3_600_000, StartAtUnixMs: startAt)));
        var nightly = await Node.Manage<ScheduleInfo>(new PutSchedule("nightly", new ScheduleSpec("reports", task, Cron: "0 3 29 2 *", TimeZone: "Europe/Berlin")));

        var page = await fixture.Chromium.NewPageAsync(fixture.Http);
        page.PageError += (_, error) => output.WriteLine($"page error: {error}");
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.GotoAsync("/ui/");
        await page.ClickAsync("header a[href='/ui/schedules']");
        var hourly = page.Locator("tr[data-schedule='hourly-report']");
        await Expect(hourly.Locator("[data-field=when]")).ToHaveTextAsync("every 1 h");
        await Expect(hourly.Locator("[data-field=next]")).ToContainTextAsync(Shown(startAt) + " (in ");
        await Expect(hourly.Locator("[data-field=state]")).ToHaveTextAsync("active");
        var row = page.Locator("tr[data-schedule='nightly']");
        await Expect(row.Locator("[data-field=when]")).ToHaveTextAsync("cron 0 3 29 2 * (Europe/Berlin)");
        await Expect(row.Locator("[data-field=next]")).ToContainTextAsync(Shown(nightly.NextDueUnixMs[0]));
        var screenshot = Path.Combine(Chromium.ScreenshotDirectory, "schedules.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        output.WriteLine($"screenshot: {screenshot}");

        await hourly.Locator("button.pause").ClickAsync();
        await Expect(hourly.Locator("[data-field=state]")).ToHaveTextAsync("paused");
        await Expect(hourly.Locator("[data-field=next]")).ToHaveTextAsync("–");
        Assert.True((await Node.Manage<ScheduleInfo>(new GetSchedule("hourly-report"))).Paused);
        await hourly.Locator("button.resume").ClickAsync();
        await Expect(hourly.Locator("[data-field=state]")).ToHaveTextAsync("active");
        Assert.False((await Node.Manage<ScheduleInfo>(new GetSchedule("hourly-report"))).Paused);

        await hourly.Locator("button.trigger").ClickAsync();
        await Expect(page.Locator("#messages .notice")).ToContainTextAsync("Ran hourly-report now: task default/reports#");
        await Expect(hourly.Locator("[data-field=runs]")).ToHaveTextAsync("1");
        var ran = await Node.Manage<ScheduleInfo>(new GetSchedule("hourly-report"));
        Assert.Equal(1, ran.Runs);
        await Expect(hourly.Locator($"[data-field=last] a")).ToHaveTextAsync(ran.LastTaskId!);
        Assert.Equal(1, (await Node.Stats("reports")).Ready);

        await row.Locator("button.delete").ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        var gone = await Assert.ThrowsAsync<RejectedException>(() => Node.Manage<ScheduleInfo>(new GetSchedule("nightly")));
        Assert.Equal(ErrorCode.ScheduleNotFound, gone.Code);
        await Expect(hourly).ToHaveCountAsync(1);
    }

    [Fact(DisplayName = "schedules page: a bad namespace or schedule name is a 400 with the rule (shown as text); an unknown schedule is a 404")]
    public async Task BadNames()
    {
        var page = await fixture.Chromium.NewPageAsync(fixture.Http);
        await page.GotoAsync("/ui/schedules?ns=" + Uri.EscapeDataString("<b>NS</b>"));
        await Expect(page.Locator("#schedules .error")).ToContainTextAsync("invalid namespace '<b>NS</b>'");
        Assert.Equal(0, await page.Locator("main b").CountAsync());
        await page.GotoAsync("/ui/schedules?ns=empty-ns");
        await Expect(page.Locator("#schedules")).ToHaveTextAsync("No schedules in namespace empty-ns.");

        using var http = new HttpClient { BaseAddress = fixture.Http };
        var token = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/api/session")).RootElement.GetProperty("csrfToken").GetString();
        async Task<HttpResponseMessage> Post(string path)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}") };
            request.Headers.Add("X-Conduit-Csrf", token);
            return await http.SendAsync(request);
        }
        var badName = await Post("/api/schedules/default/" + Uri.EscapeDataString("Bad Name") + "/pause");
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Contains("invalid schedule name", await badName.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await Post("/api/schedules/default/no-such-schedule/trigger")).StatusCode);
    }
}
