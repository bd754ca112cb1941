using System.Net;
using System.Text.Json;
using Conduit.Testing;
using Xunit;

namespace Conduit.Node.Tests;

/// <summary>The shipped node's <c>/healthz</c> and <c>/readyz</c>, as a prober (compose, Kubernetes) sees them.</summary>
public sealed class HealthEndpointTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Get(Uri node, string path)
    {
        using var response = await Http.GetAsync(new Uri(node, path));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, body);
    }

    private static string CheckStatus(JsonElement body, string check) => body.GetProperty("checks").GetProperty(check).GetProperty("status").GetString()!;

    [Fact(DisplayName = "on PostgreSQL, /readyz turns 503 naming the storage check while the database is down and 200 once it is back; /healthz stays 200 throughout")]
    public async Task ReadinessFollowsTheDatabase()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("conduit");
        await using var node = NodeProcess.Start("--postgres", database, "--port", "0", "--cluster-port", "0");
        var http = await node.HttpAddress();
        Assert.True(http.IsLoopback, $"the HTTP listener is on loopback by default, not {http}");

        await Eventually.Holds(async () =>
        {
            var (status, body) = await Get(http, "/readyz");
            Assert.Equal((HttpStatusCode.OK, "Healthy"), (status, body.GetProperty("status").GetString()));
        }, timeoutMs: 60_000, intervalMs: 200);
        var (_, ready) = await Get(http, "/readyz");
        foreach (var check in new[] { "akka.actorsystem", "conduit-client-endpoint", "akka.cluster.join", "conduit-partitions", "conduit-storage" })
            Assert.Equal("Healthy", CheckStatus(ready, check));
        var (liveStatus, live) = await Get(http, "/healthz");
        Assert.Equal(HttpStatusCode.OK, liveStatus);
        Assert.False(live.GetProperty("checks").TryGetProperty("conduit-storage", out _), "liveness does not depend on the database");

        var outage = postgres.RestartImmediateAsync(TimeSpan.FromSeconds(8));
        await Eventually.Holds(async () =>
        {
            var (status, body) = await Get(http, "/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("Unhealthy", CheckStatus(body, "conduit-storage"));
        }, timeoutMs: 8_000, intervalMs: 100);
        var (liveDuringOutage, _) = await Get(http, "/healthz");
        Assert.Equal(HttpStatusCode.OK, liveDuringOutage);
        Assert.False(outage.IsCompleted, "the outage was seen while the database was still down");
        var (_, down) = await Get(http, "/readyz");
        Assert.DoesNotContain("Password", down.GetRawText(), StringComparison.OrdinalIgnoreCase);
        await outage;

        await Eventually.Holds(async () =>
        {
            var (status, body) = await Get(http, "/readyz");
            Assert.Equal((HttpStatusCode.OK, "Healthy"), (status, CheckStatus(body, "conduit-storage")));
        }, timeoutMs: 30_000, intervalMs: 200);
    }

    [Fact(DisplayName = "--no-http starts the node without an HTTP listener")]
    public async Task HttpOff()
    {
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        await using var node = NodeProcess.Start("--port", "0", "--cluster-port", "0", "--data", data, "--no-http");
        await node.WaitForOutput("Conduit node listening on");
        await node.WaitForOutput("Press Ctrl-C to stop");
        Assert.DoesNotContain("HTTP on", node.Output);
        Assert.Equal(0, await node.InterruptAndWait());
    }
}
