using System.Text.Json;
using Conduit.Testing;
using Xunit;

namespace Conduit.Cli.Tests;

/// <summary>The same queue name in two namespaces through the real CLI (<c>--namespace</c>, <c>-n</c>, <c>CONDUIT_NAMESPACE</c>) against one node.</summary>
public sealed class NamespaceCommandTests(CliNodeFixture fixture) : IClassFixture<CliNodeFixture>
{
    private static CliResult Ok(CliResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }

    private Task<CliResult> InEnvironment(string ns, params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CONDUIT_NAMESPACE"] = ns }, ["--server", fixture.Server, .. args]);

    private async Task<JsonElement> Stats(string queue, string ns) => Ok(await fixture.Cli("queue", "stats", queue, "-n", ns, "--json")).Json;

    [Fact(DisplayName = "enqueue, poll, stats and `queues` keep a queue of the same name in two namespaces apart")]
    public async Task EnqueuePollStats()
    {
        const string q = "cli-ns";
        var a = Ok(await fixture.Cli("enqueue", q, "--namespace", "alpha", "--count", "2", "--payload", "a", "--json")).Json;
        Assert.Equal("alpha", a.GetProperty("namespace").GetString());
        Assert.All(a.GetProperty("taskIds").EnumerateArray(), id => Assert.StartsWith($"alpha/{q}#", id.GetString()));
        Assert.Matches($@"^enqueued beta/{q}#0:\d+\s*$", Ok(await InEnvironment("beta", "enqueue", q, "--payload", "b")).Out);

        var statsA = await Stats(q, "alpha");
        Assert.Equal(("alpha", 2), (statsA.GetProperty("namespace").GetString(), statsA.GetProperty("ready").GetInt32()));
        Assert.Equal(1, Ok(await InEnvironment("beta", "queue", "stats", q, "--json")).Json.GetProperty("ready").GetInt32());
        Assert.Equal(0, (await Stats(q, "default")).GetProperty("ready").GetInt32());

        var queues = Ok(await fixture.Cli("queues"));
        Assert.Equal("2", queues.RowStartingWith("alpha", q)[2]);
        Assert.Equal("1", queues.RowStartingWith("beta", q)[2]);
        var listed = Ok(await fixture.Cli("queues", "--json")).Json.GetProperty("queues").EnumerateArray()
            .Where(s => s.GetProperty("queue").GetString() == q)
            .Select(s => (s.GetProperty("namespace").GetString(), s.GetProperty("ready").GetInt32())).Order().ToArray();
        Assert.Equal([("alpha", 2), ("beta", 1), ("default", 0)], listed); // the default one runs since its stats were asked

        var polled = Ok(await fixture.Cli("poll", q, "-n", "beta", "--max", "5", "--complete", "--wait", "2s", "--json")).Json;
        Assert.Equal("b", Assert.Single(polled.GetProperty("tasks").EnumerateArray()).GetProperty("payload").GetString());
        Assert.Equal(2, (await Stats(q, "alpha")).GetProperty("ready").GetInt32());
    }

    [Fact(DisplayName = "queue pause and purge act on the namespace given, not on the queue of the same name elsewhere")]
    public async Task PausePurge()
    {
        const string q = "cli-ns-admin";
        Ok(await fixture.Cli("enqueue", q, "-n", "alpha", "--count", "2", "--payload", "a"));
        Ok(await fixture.Cli("enqueue", q, "-n", "beta", "--count", "3", "--payload", "b"));
        Ok(await fixture.Cli("queue", "pause", q, "-n", "alpha"));
        Assert.True((await Stats(q, "alpha")).GetProperty("paused").GetBoolean());
        Assert.False((await Stats(q, "beta")).GetProperty("paused").GetBoolean());

        var purged = Ok(await fixture.Cli("queue", "purge", q, "-n", "alpha", "--json")).Json;
        Assert.Equal(("alpha", 2), (purged.GetProperty("namespace").GetString(), purged.GetProperty("purged").GetInt32()));
        Assert.Equal(0, (await Stats(q, "alpha")).GetProperty("ready").GetInt32());
        Assert.Equal(3, (await Stats(q, "beta")).GetProperty("ready").GetInt32());
        await Eventually.Holds(() =>
        {
            Assert.Contains(fixture.Log.Lines, l => l.Contains($"purged queue alpha/{q}", StringComparison.Ordinal));
            return Task.CompletedTask;
        });
    }

    [Fact(DisplayName = "dlq list and requeue see the namespace given; task and lease commands follow the namespace in the id")]
    public async Task DeadLettersAndIds()
    {
        const string q = "cli-ns-dlq";
        var ids = new Dictionary<string, string>();
        foreach (var ns in new[] { "alpha", "beta" })
        {
            ids[ns] = Ok(await fixture.Cli("enqueue", q, "-n", ns, "--payload", ns, "--max-attempts", "1", "--json")).Json.GetProperty("taskIds")[0].GetString()!;
            var lease = Ok(await fixture.Cli("poll", q, "-n", ns, "--lease", "1m", "--json")).Json.GetProperty("tasks")[0].GetProperty("leaseToken").GetString()!;
            // The lease token names its namespace: given with another -n, it still fails the right task.
            Assert.Contains("dead-lettered", Ok(await fixture.Cli("fail", lease, "-n", "default", "--reason", "boom")).Out);
        }

        var listA = Ok(await fixture.Cli("dlq", "list", q, "-n", "alpha", "--json")).Json;
        Assert.Equal(ids["alpha"], Assert.Single(listA.GetProperty("items").EnumerateArray()).GetProperty("taskId").GetString());
        Assert.Empty(Ok(await fixture.Cli("dlq", "list", q, "--json")).Json.GetProperty("items").EnumerateArray());

        Assert.Equal(1, Ok(await fixture.Cli("dlq", "requeue", q, "-n", "alpha", "--all", "--json")).Json.GetProperty("count").GetInt32());
        Assert.Empty(Ok(await fixture.Cli("dlq", "list", q, "-n", "alpha", "--json")).Json.GetProperty("items").EnumerateArray());
        Assert.Equal(ids["beta"], Assert.Single(Ok(await fixture.Cli("dlq", "list", q, "-n", "beta", "--json")).Json.GetProperty("items").EnumerateArray())
            .GetProperty("taskId").GetString());

        var get = Ok(await fixture.Cli("task", "get", ids["alpha"], "-n", "beta"));
        Assert.Equal(["namespace", "alpha"], get.Row("namespace"));
        Assert.Equal(["status", "Ready"], get.Row("status"));
    }

    [Fact(DisplayName = "a bad namespace is refused before anything is sent, and no queue of that name appears")]
    public async Task BadNamespace()
    {
        var r = await fixture.Cli("enqueue", "cli-ns-bad", "-n", "Not/Valid", "--payload", "x");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("invalid namespace", r.Err);
        var listed = Ok(await fixture.Cli("queues", "--json")).Json.GetProperty("queues").EnumerateArray();
        Assert.DoesNotContain(listed, s => s.GetProperty("queue").GetString() == "cli-ns-bad");
    }
}
