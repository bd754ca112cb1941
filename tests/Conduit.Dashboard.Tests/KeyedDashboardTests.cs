using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conduit.Protocol;
using Conduit.Protocol.Security;
using Conduit.Testing;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Conduit.Dashboard.Tests;

/// <summary>The dashboard of a node with API keys: login with an operator key, sessions, CSRF, in a real Chromium.</summary>
public sealed class KeyedDashboardTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _operatorKey = ApiKey.Generate("ops");
    private readonly string _producerKey = ApiKey.Generate("app");
    private readonly string _billingOperatorKey = ApiKey.Generate("billing-ops");
    private string _keysFile = null!;
    private TestNode _node = null!;
    private Chromium _chromium = null!;

    public async Task InitializeAsync()
    {
        _keysFile = Path.Combine(Path.GetTempPath(), $"conduit-dashboard-keys-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_keysFile, JsonSerializer.Serialize(new
        {
            keys = new[]
            {
                KeysFileEntry.For(_operatorKey, ["operator"], ["*"]),
                KeysFileEntry.For(_producerKey, ["producer", "worker"], ["*"]),
                KeysFileEntry.For(_billingOperatorKey, ["operator"], ["billing"]),
            },
        }));
        _chromium = await Chromium.LaunchAsync();
        _node = await OpenNodeFixture.StartNode(_keysFile);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        if (_chromium is not null) await _chromium.DisposeAsync();
        File.Delete(_keysFile);
    }

    [Fact(DisplayName = "with keys: pages lead to the login; a wrong key and a key without the operator role are refused; an operator key gets a session cookie (HttpOnly, SameSite=Strict, not the key) and the pages; logout ends it")]
    public async Task LoginFlow()
    {
        await _node.Enqueue("billing", "invoice");
        var http = _node.HttpAddress;
        var page = await _chromium.NewPageAsync(http);
        page.PageError += (_, error) => output.WriteLine($"page error: {error}");

        await page.GotoAsync("/ui/");
        await Expect(page).ToHaveURLAsync(new Uri(http, "/ui/login").ToString());

        await page.FillAsync("#key", _operatorKey[..^4] + "AAAA");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("#messages .error")).ToContainTextAsync("not accepted by this node");
        await page.FillAsync("#key", "garbage");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("#messages .error")).ToContainTextAsync("not of the form id.secret");
        await page.FillAsync("#key", _producerKey);
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("#messages .error")).ToContainTextAsync("key 'app' (producer,worker in *) has no operator role");
        Assert.Empty(await page.Context.CookiesAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Chromium.ScreenshotDirectory, "login-refused.png") });

        await page.FillAsync("#key", _operatorKey);
        await page.ClickAsync("button[type=submit]");
        await Expect(page).ToHaveURLAsync(new Uri(http, "/ui/").ToString());
        await Expect(page.Locator("tr[data-queue='default/billing'] [data-field=ready]")).ToHaveTextAsync("1");
        await Expect(page.Locator("header .who")).ToHaveTextAsync("key ops");
        var cookie = Assert.Single(await page.Context.CookiesAsync());
        Assert.Equal("conduit_session", cookie.Name);
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(cookie.Value, _operatorKey);
        Assert.False(_operatorKey.Contains(cookie.Value, StringComparison.Ordinal));

        // The page's own requests carry the token; a POST with the session cookie but without the header is refused.
        var api = page.Context.APIRequest;
        var forged = await api.PostAsync("/api/queues/default/billing/pause", new() { DataObject = new { } });
        Assert.Equal(403, forged.Status);
        Assert.Contains("X-Conduit-Csrf", await forged.TextAsync());
        Assert.False((await _node.Stats("billing")).Paused);
        await page.GotoAsync("/ui/queue?ns=default&q=billing");
        await page.ClickAsync("#pause");
        await Expect(page.Locator("#state")).ToHaveTextAsync("paused");
        Assert.True((await _node.Stats("billing")).Paused);

        await page.GotoAsync("/ui/");
        await page.ClickAsync("header button:has-text('Log out')");
        await Expect(page).ToHaveURLAsync(new Uri(http, "/ui/login").ToString());
        var after = await api.GetAsync("/api/queues");
        Assert.Equal(401, after.Status);
    }

    [Fact(DisplayName = "with keys: the API answers 401 without a session, and a session cookie made up by the caller gets nothing")]
    public async Task ApiNeedsSession()
    {
        using var http = new HttpClient { BaseAddress = _node.HttpAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/queues")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/session")).StatusCode);
        using var forged = new HttpRequestMessage(HttpMethod.Get, "/api/cluster");
        forged.Headers.Add("Cookie", "conduit_session=" + _operatorKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(forged)).StatusCode);
        using var keyAsCsrf = new HttpRequestMessage(HttpMethod.Post, "/api/queues/default/q/purge");
        keyAsCsrf.Headers.Add("X-Conduit-Csrf", _operatorKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(keyAsCsrf)).StatusCode);

        // Login takes JSON only: a cross-site form post (urlencoded) cannot log a browser in.
        var form = await http.PostAsync("/api/login", new FormUrlEncodedContent([new("key", _operatorKey)]));
        Assert.Equal(HttpStatusCode.BadRequest, form.StatusCode);
    }

    [Fact(DisplayName = "with keys: an operator of one namespace sees that namespace's queues and schedules only and may not act elsewhere or read the cluster")]
    public async Task NamespacedOperator()
    {
        await _node.Ask<Enqueued>(new Enqueue("invoices", new TaskSpec("i"u8.ToArray()), "billing"));
        await _node.Enqueue("emails", "e");
        using var http = new HttpClient(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = _node.HttpAddress,
        };
        using var login = await http.PostAsJsonAsync("/api/login", new { key = _billingOperatorKey });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.GetProperty("csrfToken").GetString()!;

        var queues = JsonDocument.Parse(await http.GetStringAsync("/api/queues")).RootElement.GetProperty("queues");
        var listed = queues.EnumerateArray().Select(q => $"{q.GetProperty("namespace").GetString()}/{q.GetProperty("queue").GetString()}").ToList();
        Assert.Equal(["billing/invoices"], listed);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/queues/billing/invoices")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/api/queues/default/emails")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/api/cluster")).StatusCode);

        using var pause = new HttpRequestMessage(HttpMethod.Post, "/api/queues/default/emails/pause");
        pause.Headers.Add("X-Conduit-Csrf", token);
        var refused = await http.SendAsync(pause);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("in namespace 'default'",
            JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("message").GetString());
        Assert.False((await _node.Stats("emails")).Paused);

        // Schedules the same way: their own namespace's, not another's, to read or to change.
        var spec = new ScheduleSpec("invoices", new TaskSpec("s"u8.ToArray()), IntervalMs: 3_600_000);
        await _node.Manage<ScheduleInfo>(new PutSchedule("monthly-invoices", spec, "billing"));
        await _node.Manage<ScheduleInfo>(new PutSchedule("digest", spec with { Queue = "emails" }));
        var schedules = JsonDocument.Parse(await http.GetStringAsync("/api/schedules?ns=billing")).RootElement.GetProperty("schedules");
        Assert.Equal(["monthly-invoices"], schedules.EnumerateArray().Select(x => x.GetProperty("name").GetString()).ToList());
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/api/schedules?ns=default")).StatusCode);
        using var pauseDigest = new HttpRequestMessage(HttpMethod.Post, "/api/schedules/default/digest/pause");
        pauseDigest.Headers.Add("X-Conduit-Csrf", token);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(pauseDigest)).StatusCode);
        Assert.False((await _node.Manage<ScheduleInfo>(new GetSchedule("digest"))).Paused);

        // In the browser, the schedules page opens on the key's own namespace (it may not read default's).
        var page = await _chromium.NewPageAsync(_node.HttpAddress);
        page.PageError += (_, error) => output.WriteLine($"page error: {error}");
        await page.GotoAsync("/ui/login");
        await page.FillAsync("#key", _billingOperatorKey);
        await page.ClickAsync("button[type=submit]");
        await Expect(page).ToHaveURLAsync(new Uri(_node.HttpAddress, "/ui/").ToString());
        await page.ClickAsync("header a[href='/ui/schedules']");
        await Expect(page.Locator("tr[data-schedule='monthly-invoices'] [data-field=when]")).ToHaveTextAsync("every 1 h");
        await Expect(page.Locator("#namespace")).ToHaveValueAsync("billing");
    }
}
