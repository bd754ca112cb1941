using System.Text.Json;
using Conduit.Protocol;
using Conduit.Testing;
using Xunit;

namespace Conduit.Cli.Tests;

/// <summary>The queue commands against one real node: what they print, what they change, and their exit codes.</summary>
public sealed class QueueCommandTests(CliNodeFixture fixture) : IClassFixture<CliNodeFixture>
{
    private static void Ok(CliResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.False(r.Out.Contains('\u001b'), "colour codes although stdout is not a terminal"); // Contains(string) would compare culture-sensitively, ignoring ESC
    }

    private async Task<JsonElement> Stats(string queue)
    {
        var r = await fixture.Cli("queue", "stats", queue, "--json");
        Ok(r);
        return r.Json;
    }

    [Fact(DisplayName = "enqueue prints the task id; `queues` and `queue stats` count what was enqueued")]
    public async Task EnqueueThenCount()
    {
        var one = await fixture.Cli("enqueue", "cli-count", "--payload", "hello");
        Ok(one);
        Assert.Matches(@"^enqueued default/cli-count#0:\d+\s*$", one.Out);

        var three = await fixture.Cli("enqueue", "cli-count", "--count", "3", "--priority", "7", "--delay", "0s");
        Ok(three);
        Assert.StartsWith("enqueued 3 tasks to cli-count", three.Out);
        Assert.Equal("", three.Err); // stderr is not a terminal: no progress bar

        var queues = await fixture.Cli("queues");
        Ok(queues);
        Assert.StartsWith("NAMESPACE", queues.Out);
        var row = queues.RowStartingWith("default", "cli-count");
        Assert.Equal(["default", "cli-count", "4", "0", "0", "0"], row[..6]);
        Assert.Equal("no", row[8]);

        var stats = await Stats("cli-count");
        Assert.Equal(("cli-count", 4, 0, false), (stats.GetProperty("queue").GetString(), stats.GetProperty("ready").GetInt32(),
            stats.GetProperty("running").GetInt32(), stats.GetProperty("paused").GetBoolean()));

        var listed = await fixture.Cli("queues", "--json");
        Ok(listed);
        var queue = listed.Json.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("queue").GetString() == "cli-count");
        Assert.Equal(4, queue.GetProperty("ready").GetInt32());
    }

    [Fact(DisplayName = "enqueue --count sends batches; every task arrives, numbered when no payload is given")]
    public async Task EnqueueMany()
    {
        var r = await fixture.Cli("enqueue", "cli-many", "--count", "1200", "--json");
        Ok(r);
        Assert.Equal(1200, r.Json.GetProperty("enqueued").GetInt32());
        Assert.Equal(1200, r.Json.GetProperty("taskIds").EnumerateArray().Select(t => t.GetString()).Distinct().Count());
        Assert.Equal(1200, (await Stats("cli-many")).GetProperty("ready").GetInt32());

        var polled = await fixture.Cli("poll", "cli-many", "--max", "5", "--json");
        Ok(polled);
        var payloads = polled.Json.GetProperty("tasks").EnumerateArray().Select(t => int.Parse(t.GetProperty("payload").GetString()!)).ToList();
        Assert.Equal(5, payloads.Count);
        Assert.All(payloads, p => Assert.InRange(p, 1, 1200));
    }

    [Fact(DisplayName = "poll --complete leases and completes the task; `task get` then says Completed")]
    public async Task PollAndComplete()
    {
        var enqueued = await fixture.Cli("enqueue", "cli-poll", "--payload", "work", "--json");
        Ok(enqueued);
        var id = enqueued.Json.GetProperty("taskIds")[0].GetString()!;

        var human = await fixture.Cli("poll", "cli-poll", "--wait", "1s", "--max", "0");
        Assert.Equal(2, human.ExitCode); // --max 0 is a usage error, nothing leased

        var polled = await fixture.Cli("poll", "cli-poll", "--complete", "--wait", "2s");
        Ok(polled);
        var row = polled.Row(id);
        Assert.Equal([id, "1/10", "5", "completed", "-", "work"], row);

        var task = await fixture.Cli("task", "get", id, "--json");
        Ok(task);
        Assert.Equal("Completed", task.Json.GetProperty("status").GetString());
        var empty = await fixture.Cli("poll", "cli-poll", "--wait", "300ms");
        Ok(empty);
        Assert.Contains("no task in cli-poll", empty.Out);
    }

    [Fact(DisplayName = "poll prints a lease that `complete` and `fail` accept")]
    public async Task CompleteAndFailByLease()
    {
        Ok(await fixture.Cli("enqueue", "cli-lease", "--count", "2"));
        var polled = await fixture.Cli("poll", "cli-lease", "--max", "2", "--lease", "1m", "--json"); // the test node's default lease is 2 s
        Ok(polled);
        var leases = polled.Json.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("leaseToken").GetString()!).ToArray();
        Assert.Equal(2, leases.Length);
        Assert.All(polled.Json.GetProperty("tasks").EnumerateArray(), t =>
            Assert.True(t.GetProperty("leaseExpiresAtUnixMs").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 30_000, "--lease 1m was not applied"));

        var completed = await fixture.Cli("complete", leases[0]);
        Ok(completed);
        Assert.StartsWith("completed default/cli-lease#0:", completed.Out);
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var failed = await fixture.Cli("fail", leases[1], "--reason", "flaky", "--retry-after", "10m", "--json");
        Ok(failed);
        Assert.Equal("Failed", failed.Json.GetProperty("next").GetString());
        // The test node's backoff is at most 200 ms: ten minutes is the --retry-after.
        Assert.InRange(failed.Json.GetProperty("retryAtUnixMs").GetInt64() - before, 590_000, 610_000);

        var again = await fixture.Cli("complete", leases[0]);
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("UnknownLease: ", again.Err);
    }

    [Fact(DisplayName = "complete --result keeps a result; `task get` shows it, the payload and the attempt (table and JSON); a result over 64 KiB is a usage error")]
    public async Task CompleteWithResult()
    {
        var enqueued = await fixture.Cli("enqueue", "cli-result", "--payload", "question", "--json");
        Ok(enqueued);
        var id = enqueued.Json.GetProperty("taskIds")[0].GetString()!;
        var polled = await fixture.Cli("poll", "cli-result", "--wait", "2s", "--lease", "2m", "--json"); // two more CLI runs before it completes
        Ok(polled);
        var lease = polled.Json.GetProperty("tasks")[0].GetProperty("leaseToken").GetString()!;

        var tooBig = await fixture.Cli("complete", lease, "--result", new string('x', Complete.MaxOutputBytes + 1));
        Assert.Equal(2, tooBig.ExitCode);
        Ok(await fixture.Cli("complete", lease, "--result", "answer 42"));

        var human = await fixture.Cli("task", "get", id);
        Ok(human);
        Assert.Equal(["result", "answer", "42"], human.Row("result"));
        Assert.Equal(["payload", "question"], human.Row("payload"));
        Assert.Equal(["Completed", $"conduit@{Environment.MachineName}", "-"], human.Row("1")[^3..]);

        var json = await fixture.Cli("task", "get", id, "--json");
        Ok(json);
        var details = json.Json.GetProperty("details");
        Assert.Equal("answer 42", System.Text.Encoding.UTF8.GetString(details.GetProperty("output").GetBytesFromBase64()));
        Assert.Equal(1, details.GetProperty("attempts").GetArrayLength());
    }

    [Fact(DisplayName = "tasks list shows running tasks with the worker poll --worker named, and completed ones from the history; a bad state or worker name is a usage error")]
    public async Task ListTasks()
    {
        var enqueued = await fixture.Cli("enqueue", "cli-list", "--count", "3", "--json");
        Ok(enqueued);
        var ids = enqueued.Json.GetProperty("taskIds").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var polled = await fixture.Cli("poll", "cli-list", "--max", "2", "--wait", "2s", "--lease", "2m", "--worker", "cli-w1", "--json");
        Ok(polled);
        var tasks = polled.Json.GetProperty("tasks").EnumerateArray().ToArray();
        Assert.Equal(2, tasks.Length);

        var running = await fixture.Cli("tasks", "list", "cli-list", "--state", "running");
        Ok(running);
        foreach (var t in tasks)
            Assert.Contains("cli-w1", running.Row(t.GetProperty("taskId").GetString()!));
        var ready = await fixture.Cli("tasks", "list", "cli-list", "--state", "Ready", "--json");
        Ok(ready);
        var readyIds = ready.Json.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("taskId").GetString()!).ToArray();
        Assert.Equal(ids.Except(tasks.Select(t => t.GetProperty("taskId").GetString()!)), readyIds);

        Ok(await fixture.Cli("complete", tasks[0].GetProperty("leaseToken").GetString()!));
        Ok(await fixture.Cli("complete", tasks[1].GetProperty("leaseToken").GetString()!));
        // One a page: the first page says how to go on.
        var first = await fixture.Cli("tasks", "list", "cli-list", "--state", "completed", "--limit", "1", "--json");
        Ok(first);
        Assert.Equal(1, first.Json.GetProperty("items").GetArrayLength());
        var next = first.Json.GetProperty("next").GetString()!;
        var second = await fixture.Cli("tasks", "list", "cli-list", "--state", "completed", "--after", next, "--json");
        Ok(second);
        var completed = first.Json.GetProperty("items").EnumerateArray().Concat(second.Json.GetProperty("items").EnumerateArray())
            .Select(i => i.GetProperty("taskId").GetString()!).Order().ToArray();
        Assert.Equal(tasks.Select(t => t.GetProperty("taskId").GetString()!).Order(), completed);

        Assert.Equal(2, (await fixture.Cli("tasks", "list", "cli-list", "--state", "done")).ExitCode);
        Assert.Equal(2, (await fixture.Cli("poll", "cli-list", "--worker", "bad\tname")).ExitCode);
        var foreign = await fixture.Cli("tasks", "list", "cli-list", "--state", "ready", "--after", "default/other#0:16");
        Assert.Equal(1, foreign.ExitCode);
        Assert.StartsWith("InvalidArgument: ", foreign.Err);
    }

    [Fact(DisplayName = "task get shows a scheduled task; task cancel cancels it; cancelling twice is refused with exit 1")]
    public async Task GetAndCancel()
    {
        var enqueued = await fixture.Cli("enqueue", "cli-cancel", "--payload", "later", "--delay", "1h", "--json");
        Ok(enqueued);
        var id = enqueued.Json.GetProperty("taskIds")[0].GetString()!;

        var get = await fixture.Cli("task", "get", id);
        Ok(get);
        Assert.Equal(["status", "Scheduled"], get.Row("status"));
        Assert.Equal(["queue", "cli-cancel"], get.Row("queue"));

        var cancel = await fixture.Cli("task", "cancel", id);
        Ok(cancel);
        Assert.Equal($"cancelled {id}", cancel.Out.Trim());
        var after = await fixture.Cli("task", "get", id, "--json");
        Assert.Equal("Cancelled", after.Json.GetProperty("status").GetString());

        var twice = await fixture.Cli("task", "cancel", id);
        Assert.Equal(1, twice.ExitCode);
        Assert.StartsWith("InvalidArgument: ", twice.Err);
        var missing = await fixture.Cli("task", "get", "default/cli-cancel#0:999993");
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("TaskNotFound: ", missing.Err);
    }

    [Fact(DisplayName = "a task failed on its last attempt shows in `dlq list`; `dlq requeue --all` puts it back, and the node logs who asked")]
    public async Task DeadLetters()
    {
        var enqueued = await fixture.Cli("enqueue", "cli-dlq", "--payload", "doomed", "--max-attempts", "1", "--json");
        var id = enqueued.Json.GetProperty("taskIds")[0].GetString()!;
        var polled = await fixture.Cli("poll", "cli-dlq", "--lease", "1m", "--json");
        var lease = polled.Json.GetProperty("tasks")[0].GetProperty("leaseToken").GetString()!;
        var failed = await fixture.Cli("fail", lease, "--reason", "boom");
        Ok(failed);
        Assert.Contains("dead-lettered", failed.Out);

        var list = await fixture.Cli("dlq", "list", "cli-dlq");
        Ok(list);
        var row = list.Row(id);
        Assert.Equal("1", row[1]);
        Assert.Equal("boom", row[^1]);
        Assert.Equal(1, (await Stats("cli-dlq")).GetProperty("deadLettered").GetInt32());

        var byId = await fixture.Cli("dlq", "requeue", "cli-dlq", "default/cli-dlq#0:999993", "--json");
        Ok(byId);
        Assert.Equal(0, byId.Json.GetProperty("count").GetInt32()); // not a dead letter: nothing requeued

        var requeued = await fixture.Cli("dlq", "requeue", "cli-dlq", "--all");
        Ok(requeued);
        Assert.Equal("requeued 1 dead letters of cli-dlq", requeued.Out.Trim());
        var stats = await Stats("cli-dlq");
        Assert.Equal((0, 1), (stats.GetProperty("deadLettered").GetInt32(), stats.GetProperty("ready").GetInt32()));
        await Eventually.Holds(() =>
        {
            Assert.Contains(fixture.Log.Lines, l => l.Contains($"anonymous@akka.tcp://{WireNames.CliSystemName}@") && l.Contains("dead letters of queue default/cli-dlq"));
            return Task.CompletedTask;
        });
    }

    [Fact(DisplayName = "pause stops dispatch, resume restarts it, purge drops the backlog and is logged with who asked")]
    public async Task PauseResumePurge()
    {
        Ok(await fixture.Cli("enqueue", "cli-admin", "--count", "2"));
        var paused = await fixture.Cli("queue", "pause", "cli-admin");
        Ok(paused);
        Assert.Contains("queue cli-admin paused", paused.Out);
        Assert.True((await Stats("cli-admin")).GetProperty("paused").GetBoolean());
        var none = await fixture.Cli("poll", "cli-admin", "--wait", "500ms", "--json");
        Ok(none);
        Assert.Equal(0, none.Json.GetProperty("tasks").GetArrayLength());

        Ok(await fixture.Cli("queue", "resume", "cli-admin"));
        Assert.False((await Stats("cli-admin")).GetProperty("paused").GetBoolean());

        var purged = await fixture.Cli("queue", "purge", "cli-admin");
        Ok(purged);
        Assert.Equal("purged 2 tasks from cli-admin", purged.Out.Trim());
        Assert.Equal(0, (await Stats("cli-admin")).GetProperty("ready").GetInt32());
        await Eventually.Holds(() =>
        {
            Assert.Contains(fixture.Log.Lines, l => l.Contains($"anonymous@akka.tcp://{WireNames.CliSystemName}@") && l.Contains("purged queue default/cli-admin"));
            return Task.CompletedTask;
        });
    }

    [Fact(DisplayName = "a refused operation exits 1 and prints the typed error by name, on stderr and, with --json, as a JSON error")]
    public async Task Refused()
    {
        var big = Path.Combine(Path.GetTempPath(), $"conduit-cli-big-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(big, new byte[300_000]);
        try
        {
            var r = await fixture.Cli("enqueue", "cli-refused", "--file", big);
            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith("PayloadTooLarge: payload is 300000 bytes", r.Err);
            Assert.Equal("", r.Out);

            var json = await fixture.Cli("enqueue", "cli-refused", "--file", big, "--json");
            Assert.Equal(1, json.ExitCode);
            var error = json.Json.GetProperty("error");
            Assert.Equal(("refused", "PayloadTooLarge"), (error.GetProperty("kind").GetString(), error.GetProperty("code").GetString()));
        }
        finally
        {
            File.Delete(big);
        }
    }

    [Fact(DisplayName = "queue limits shows, sets (changing only what is given), refuses bad values with exit 2 or 1, and --clear lifts them; the stats carry them")]
    public async Task Limits()
    {
        var none = await fixture.Cli("queue", "limits", "cli-limits");
        Ok(none);
        Assert.Equal("queue cli-limits: no limits", none.Out.Trim());

        var rate = await fixture.Cli("queue", "limits", "cli-limits", "--rate", "12.5", "--burst", "30");
        Ok(rate);
        Assert.Equal("queue cli-limits: 12.5/s (burst 30)", rate.Out.Trim());
        var running = await fixture.Cli("queue", "limits", "cli-limits", "--max-running", "3", "--json");
        Ok(running);
        var limits = running.Json.GetProperty("limits");
        Assert.Equal((12.5, 30, 3), (limits.GetProperty("ratePerSecond").GetDouble(), limits.GetProperty("burst").GetInt32(), limits.GetProperty("maxRunning").GetInt32()));
        Assert.Equal(3, (await Stats("cli-limits")).GetProperty("limits").GetProperty("maxRunning").GetInt32());
        var perKey = await fixture.Cli("queue", "limits", "cli-limits", "--max-running-per-key", "1");
        Ok(perKey);
        Assert.Equal("queue cli-limits: 12.5/s (burst 30), at most 3 running, at most 1 running per concurrency key", perKey.Out.Trim());

        // Two tasks of one concurrency key: the first is handed out, the second waits for it.
        Ok(await fixture.Cli("enqueue", "cli-limits", "--payload", "k1", "--concurrency-key", "customer-1"));
        Ok(await fixture.Cli("enqueue", "cli-limits", "--payload", "k2", "--concurrency-key", "customer-1"));
        // A lease that outlives the test (the test node's default is 2 s, less than a CLI process may take to start).
        var first = await fixture.Cli("poll", "cli-limits", "--max", "5", "--lease", "5m", "--json");
        Ok(first);
        Assert.Equal(1, first.Json.GetProperty("tasks").GetArrayLength());
        Assert.Equal(1, (await Stats("cli-limits")).GetProperty("running").GetInt64());

        var usage = await fixture.Cli("queue", "limits", "cli-limits", "--rate", "fast");
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("--rate must be a number", usage.Err);
        var refused = await fixture.Cli("queue", "limits", "cli-limits", "--rate", "0", "--burst", "5");
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("InvalidArgument: a burst needs a rate", refused.Err);

        var cleared = await fixture.Cli("queue", "limits", "cli-limits", "--clear");
        Ok(cleared);
        Assert.Equal("queue cli-limits: no limits", cleared.Out.Trim());
        Assert.Equal(JsonValueKind.Null, (await Stats("cli-limits")).GetProperty("limits").ValueKind);
    }

    [Fact(DisplayName = "sharding regions and stats show the node's region with the shard of a queue that was used")]
    public async Task Sharding()
    {
        Ok(await fixture.Cli("enqueue", "cli-shard", "--payload", "x"));
        var regions = await fixture.Cli("sharding", "regions", "--json");
        Ok(regions);
        var region = Assert.Single(regions.Json.GetProperty("regions").EnumerateArray());
        Assert.Equal(fixture.Node.Address.ToString(), region.GetProperty("node").GetString());
        Assert.Equal("partitions", region.GetProperty("region").GetString());
        Assert.InRange(region.GetProperty("shards").GetInt32(), 1, 100);
        Assert.InRange(region.GetProperty("entities").GetInt32(), 1, 1000);

        var stats = await fixture.Cli("sharding", "stats");
        Ok(stats);
        Assert.StartsWith("NODE", stats.Out);
        // The row of the shard that holds cli-shard's partition (other shards may have emptied as idle partitions passivated).
        var shard = ShardOf(PartitionId.Of("cli-shard", 0).EntityId);
        var row = stats.Out.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Single(c => c.Length == 4 && c[0] == fixture.Node.Address.ToString() && c[2] == shard);
        Assert.Equal("partitions", row[1]);
        Assert.True(int.Parse(row[3]) >= 1, stats.ToString());
    }

    /// <summary>The shard the node's extractor gives an entity id (100 shards, as the node is configured).</summary>
    private static string ShardOf(string entityId) =>
        new Conduit.Server.Frontend.PartitionMessageExtractor(new Conduit.Server.Frontend.QueueTopology(1, new Dictionary<string, int>()), 100)
            .ShardId(entityId, null);
}
