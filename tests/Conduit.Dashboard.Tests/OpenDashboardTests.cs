using System.Net;
using Conduit.Protocol;
using Conduit.Testing;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Conduit.Dashboard.Tests;

/// <summary>The dashboard of a node without API keys, in a real headless Chromium, against a real node on SQLite.</summary>
public sealed class OpenDashboardTests(OpenNodeFixture fixture, ITestOutputHelper output) : IClassFixture<OpenNodeFixture>
{
    private TestNode Node => fixture.Node;

    private async Task<IPage> Open(string path)
    {
        var page = await fixture.Chromium.NewPageAsync(fixture.Http);
        page.PageError += (_, error) => output.WriteLine($"page error: {error}");
        await page.GotoAsync(path);
        return page;
    }

    private async Task Screenshot(IPage page, string name)
    {
        var path = Path.Combine(Chromium.ScreenshotDirectory, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
    }

    [Fact(DisplayName = "the overview lists the cluster's members with the leader, and queues with their live depth; the depth chart fills in")]
    public async Task Overview()
    {
        for (var i = 0; i < 3; i++) await Node.Enqueue("emails", $"mail {i}");
        await Node.Enqueue("emails", "later", delayMs: 600_000);
        await Node.Enqueue("reports", "r");
        var page = await Open("/ui/");

        var emails = page.Locator("tr[data-queue='default/emails']");
        await Expect(emails.Locator("[data-field=ready]")).ToHaveTextAsync("3");
        await Expect(emails.Locator("[data-field=delayed]")).ToHaveTextAsync("1");
        await Expect(page.Locator("tr[data-queue='default/reports'] [data-field=ready]")).ToHaveTextAsync("1");
        await Expect(page.Locator("#members")).ToContainTextAsync($"{Node.Address.Host}:{Node.Address.Port} (this node)");
        await Expect(page.Locator("#members .badge.leader")).ToHaveTextAsync("leader");
        await Expect(page.Locator("#partitions")).ToContainTextAsync("default/emails#0");

        // The sampler takes one sample every 5 s; the page redraws every 5 s: wait for a line with the tasks in it.
        await Expect(page.Locator("#chart polyline[data-series=ready]")).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        await Eventually.Holds(async () =>
        {
            var points = await page.Locator("#chart").GetAttributeAsync("data-points");
            Assert.True(int.Parse(points ?? "0") >= 2, $"the chart has {points} points");
        }, timeoutMs: 30_000, intervalMs: 500);
        await Screenshot(page, "overview.png");

        // A new task shows up at the next refresh, without reloading the page.
        await Node.Enqueue("emails", "one more");
        await Expect(emails.Locator("[data-field=ready]")).ToHaveTextAsync("4", new() { Timeout = 15_000 });
    }

    [Fact(DisplayName = "a dead letter is listed on its queue's page with its reason as text (no markup runs), and requeued from there it is ready again")]
    public async Task RequeueDeadLetter()
    {
        const string reason = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script> boom";
        var taskId = await Node.DeadLetter("payments", reason);
        Assert.Equal((0, 1), ((int)(await Node.Stats("payments")).Ready, (int)(await Node.Stats("payments")).DeadLettered));

        var page = await Open("/ui/queue?ns=default&q=payments");
        var row = page.Locator($"#dead-letter-table tr[data-task='{taskId}']");
        await Expect(row.Locator(".reason")).ToHaveTextAsync(reason);
        Assert.Equal(0, await page.Locator("#dead-letters img").CountAsync());
        Assert.Null(await page.EvaluateAsync<int?>("() => window.__xss ?? null"));
        await Expect(page.Locator("[data-field=dead]")).ToHaveTextAsync("1");
        await Screenshot(page, "queue-dead-letters.png");

        await row.Locator("button.requeue").ClickAsync();
        await Expect(page.Locator("#messages")).ToContainTextAsync("Requeued 1 dead letter");
        var stats = await Node.Stats("payments");
        Assert.Equal((1L, 0L), (stats.Ready, stats.DeadLettered));
        await Expect(page.Locator("#dead-letters")).ToContainTextAsync("No dead letters.");
        await Expect(page.Locator("[data-field=ready]")).ToHaveTextAsync("1");
    }

    [Fact(DisplayName = "dead letters page with next and first page; requeue all and purge from the queue page (after the confirmation) act on the whole queue")]
    public async Task RequeueAllAndPurge()
    {
        for (var i = 0; i < 3; i++) await Node.DeadLetter("imports", $"bad row {i}");
        await Node.Enqueue("imports", "fine");
        var page = await Open("/ui/queue?ns=default&q=imports&size=2");
        var rows = page.Locator("#dead-letter-table tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        var firstPage = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.task)");
        await page.ClickAsync("#next-page");
        await Expect(rows).ToHaveCountAsync(1);
        Assert.DoesNotContain(await rows.GetAttributeAsync("data-task"), firstPage);
        await Expect(page.Locator("#next-page")).ToBeDisabledAsync();
        await page.ClickAsync("#first-page");
        await Expect(rows).ToHaveCountAsync(2);

        await page.ClickAsync("#requeue-all");
        await Expect(page.Locator("#messages")).ToContainTextAsync("Requeued 3 dead letter(s).");
        Assert.Equal((4L, 0L), ((await Node.Stats("imports")).Ready, (await Node.Stats("imports")).DeadLettered));

        await page.ClickAsync("#purge");
        await Expect(page.Locator("#messages")).ToContainTextAsync("Purged 4 task(s).");
        var stats = await Node.Stats("imports");
        Assert.Equal((0L, 0L), (stats.Ready, stats.DeadLettered));
    }

    [Fact(DisplayName = "pause and resume from the queue page change the queue's state, as the protocol reports it; the page shows the queue's limits")]
    public async Task PauseResume()
    {
        await Node.Enqueue("thumbnails", "t");
        var page = await Open("/ui/queue?ns=default&q=thumbnails");
        await Expect(page.Locator("#state")).ToHaveTextAsync("active");
        await Expect(page.Locator("[data-field=limits]")).ToHaveTextAsync("none");
        await Node.Ask<QueueLimitsChanged>(new SetQueueLimits("thumbnails", new QueueLimits(RatePerSecond: 5, MaxRunning: 2)));
        await page.ReloadAsync();
        await Expect(page.Locator("[data-field=limits]")).ToHaveTextAsync("5/s (burst 5), at most 2 running");

        await page.ClickAsync("#pause");
        await Expect(page.Locator("#state")).ToHaveTextAsync("paused");
        Assert.True((await Node.Stats("thumbnails")).Paused);
        Assert.Empty(await Node.Poll("thumbnails", waitMs: 300));
        await Expect(page.Locator("#pause")).ToBeDisabledAsync();
        await Screenshot(page, "queue-paused.png");

        await page.ClickAsync("#resume");
        await Expect(page.Locator("#state")).ToHaveTextAsync("active");
        Assert.False((await Node.Stats("thumbnails")).Paused);
    }

    [Fact(DisplayName = "a task looked up by id shows its status, attempts and last error (as text); the header's search finds it too")]
    public async Task TaskLookup()
    {
        var ready = await Node.Enqueue("lookups", "x");
        var page = await Open("/ui/");
        await page.FillAsync("header input[name=id]", ready.TaskId);
        await page.PressAsync("header input[name=id]", "Enter");
        await Expect(page.Locator("#task-id-value")).ToHaveTextAsync(ready.TaskId);
        await Expect(page.Locator("#status")).ToHaveTextAsync("Ready");

        const string reason = "<script>window.__xss=3</script>";
        var dead = await Node.DeadLetter("lookups", reason);
        await page.GotoAsync($"/ui/task?id={Uri.EscapeDataString(dead)}");
        await Expect(page.Locator("#status")).ToHaveTextAsync("DeadLettered");
        await Expect(page.Locator("#attempts")).ToHaveTextAsync("1 of 1");
        await Expect(page.Locator("#last-error")).ToHaveTextAsync(reason);
        Assert.Null(await page.EvaluateAsync<int?>("() => window.__xss ?? null"));
        await Screenshot(page, "task.png");

        await page.GotoAsync($"/ui/task?id={Uri.EscapeDataString("default/lookups#0:999999")}");
        await Expect(page.Locator("#messages .error")).ToBeVisibleAsync();
    }

    [Fact(DisplayName = "the queue page lists tasks by state with their workers, page by page; the task page shows the payload, result and attempts (all as text)")]
    public async Task TasksByState()
    {
        const string worker = "<b>w1</b>"; // printable ASCII, so a valid worker name: it must show as text
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await Node.Enqueue("listing", $"payload {i}")).TaskId);
        var first = Assert.Single((await Node.Ask<Polled>(new Poll("listing", 1, 1000, LeaseMs: 120_000, Worker: worker))).Tasks);
        await Node.Ask<Completed>(new Complete(first.LeaseToken, Output: "the <i>answer</i>"u8.ToArray()));
        var running = (await Node.Ask<Polled>(new Poll("listing", 2, 1000, LeaseMs: 120_000, Worker: worker))).Tasks;
        Assert.Equal(2, running.Length);

        var page = await Open("/ui/queue?ns=default&q=listing&size=1");
        var rows = page.Locator("#task-table tbody tr");
        await Expect(rows).ToHaveCountAsync(1); // running, one a page
        var firstRunning = await rows.GetAttributeAsync("data-task");
        await Expect(rows.Locator("td.worker")).ToHaveTextAsync(worker);
        await page.ClickAsync("#tasks-next-page");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).Not.ToHaveAttributeAsync("data-task", firstRunning!); // the second page is drawn
        Assert.Equal(running.Select(t => t.TaskId).Order(), new[] { firstRunning!, (await rows.GetAttributeAsync("data-task"))! }.Order());
        await Expect(page.Locator("#tasks-next-page")).ToBeDisabledAsync();

        await page.SelectOptionAsync("#task-state", "Completed");
        await Expect(page.Locator($"#task-table tbody tr[data-task='{first.TaskId}']")).ToBeVisibleAsync();
        await page.SelectOptionAsync("#task-state", "Ready");
        await Expect(page.Locator("#tasks")).ToContainTextAsync("No tasks in this state.");
        await Screenshot(page, "queue-tasks.png");

        await page.GotoAsync($"/ui/task?id={Uri.EscapeDataString(first.TaskId)}");
        await Expect(page.Locator("#status")).ToHaveTextAsync("Completed");
        await Expect(page.Locator("#payload")).ToHaveTextAsync("payload 0");
        await Expect(page.Locator("#result")).ToHaveTextAsync("the <i>answer</i>");
        var attempt = page.Locator("#attempt-table tbody tr[data-attempt='1']");
        await Expect(attempt.Locator("td.worker")).ToHaveTextAsync(worker);
        await Expect(attempt).ToContainTextAsync("Completed");
        Assert.Equal(0, await page.Locator("#task b, #task i, #tasks b").CountAsync());
        await Screenshot(page, "task-history.png");

        using var http = new HttpClient { BaseAddress = fixture.Http };
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/api/queues/default/listing/tasks?state=4")).StatusCode); // a number, not a state
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/api/queues/default/listing/tasks?state=Ready&after=default%2Fother%230%3A21")).StatusCode);
    }

    [Fact(DisplayName = "ids and names from the URL are checked first: a bad queue name or task id is a 400 with a message, shown as text")]
    public async Task BadInput()
    {
        var page = await Open("/ui/queue?ns=default&q=" + Uri.EscapeDataString("<img src=x onerror=alert(1)>"));
        await Expect(page.Locator("#messages .error")).ToContainTextAsync("invalid queue name '<img src=x onerror=alert(1)>'");
        Assert.Equal(0, await page.Locator("main img").CountAsync());

        using var http = new HttpClient { BaseAddress = fixture.Http };
        var badTask = await http.GetAsync("/api/tasks?id=" + Uri.EscapeDataString("not-a-task"));
        Assert.Equal(HttpStatusCode.BadRequest, badTask.StatusCode);
        var badNamespace = await http.GetAsync("/api/queues/NS/q");
        Assert.Equal(HttpStatusCode.BadRequest, badNamespace.StatusCode);
        Assert.Contains("invalid namespace", await badNamespace.Content.ReadAsStringAsync());
    }

    [Fact(DisplayName = "every dashboard response carries the CSP and hardening headers; a POST without the anti-CSRF header, or from another origin, is refused")]
    public async Task HeadersAndCsrf()
    {
        using var http = new HttpClient { BaseAddress = fixture.Http };
        foreach (var path in new[] { "/ui/", "/ui/assets/dashboard.js", "/api/queues" })
        {
            using var response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
                response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        }

        await Node.Enqueue("guarded", "g");
        using var noHeader = await http.PostAsync("/api/queues/default/guarded/pause", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.Forbidden, noHeader.StatusCode);
        Assert.False((await Node.Stats("guarded")).Paused);

        var token = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/api/session")).RootElement.GetProperty("csrfToken").GetString();
        using var crossSite = new HttpRequestMessage(HttpMethod.Post, "/api/queues/default/guarded/pause");
        crossSite.Headers.Add("X-Conduit-Csrf", token);
        crossSite.Headers.Add("Origin", "http://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(crossSite)).StatusCode);
        Assert.False((await Node.Stats("guarded")).Paused);

        // A name that is not an address is refused on a node without keys (a rebound DNS name reaching loopback).
        using var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/queues");
        rebound.Headers.Host = "attacker.example";
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(rebound)).StatusCode);

        using var good = new HttpRequestMessage(HttpMethod.Post, "/api/queues/default/guarded/pause");
        good.Headers.Add("X-Conduit-Csrf", token);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(good)).StatusCode);
        Assert.True((await Node.Stats("guarded")).Paused);
    }
}
