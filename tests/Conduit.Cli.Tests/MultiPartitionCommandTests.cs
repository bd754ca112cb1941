using System.Text.Json;
using Conduit.Protocol;
using Xunit;

namespace Conduit.Cli.Tests;

/// <summary>A node whose queues <c>mp-*</c> have three partitions by per-queue counts, while the default stays one.</summary>
public sealed class MultiPartitionNodeFixture() : CliNodeFixture(new Dictionary<string, int>
{
    ["mp-purge"] = MultiPartitionCommandTests.Partitions,
    ["mp-pause"] = MultiPartitionCommandTests.Partitions,
    ["mp-dlq"] = MultiPartitionCommandTests.Partitions,
});

/// <summary>
/// The operator commands (pause, resume, purge, dead-letter requeue) go through the management service, which must fan
/// out to every partition of the queue's topology, per-queue counts included. Every assertion here fails when only
/// one partition is reached: the tasks are first spread over all three.
/// </summary>
public sealed class MultiPartitionCommandTests(MultiPartitionNodeFixture fixture) : IClassFixture<MultiPartitionNodeFixture>
{
    public const int Partitions = 3;

    private static void Ok(CliResult r) => Assert.True(r.ExitCode == 0, r.ToString());

    private async Task<JsonElement> Stats(string queue)
    {
        var r = await fixture.Cli("queue", "stats", queue, "--json");
        Ok(r);
        return r.Json;
    }

    private static int PartitionOf(string taskId) =>
        TaskId.TryParse(taskId, out var id) ? id.Partition.Index : throw new Xunit.Sdk.XunitException($"'{taskId}' is not a task id");

    /// <summary>Batches <see cref="EnqueueOnEveryPartition"/> may send before every partition must have had one.</summary>
    private const int MaxBatches = 60;

    /// <summary>
    /// Enqueues numbered tasks with <c>conduit enqueue --count</c> until every partition has a new one, and checks that
    /// it is so. A batch lands on one partition, the better by load of two drawn at random (docs/routing.md): a least
    /// loaded partition (one still empty) draws at least a third of the batches and any partition at least a ninth, so
    /// within <see cref="MaxBatches"/> a partition is missed with a probability under 1e-3 even at a ninth, and far
    /// less as the loads even out; most runs need three or four. (Three batches per partition, enough for the
    /// round-robin placement of old, missed one about once in 15 runs, as a CI run did.)
    /// </summary>
    private async Task<List<string>> EnqueueOnEveryPartition(string queue, params string[] extra)
    {
        var readyBefore = (await Stats(queue)).GetProperty("ready").GetInt32();
        var ids = new List<string>();
        for (var batch = 0; batch < MaxBatches && ids.Select(PartitionOf).Distinct().Count() < Partitions; batch++)
        {
            var r = await fixture.Cli(["enqueue", queue, "--count", (4 + batch % 4).ToString(System.Globalization.CultureInfo.InvariantCulture), "--json", .. extra]);
            Ok(r);
            ids.AddRange(r.Json.GetProperty("taskIds").EnumerateArray().Select(t => t.GetString()!));
        }
        Assert.Equal(Enumerable.Range(0, Partitions), ids.Select(PartitionOf).Distinct().Order());
        var stats = await Stats(queue);
        Assert.Equal((Partitions, ids.Count), (stats.GetProperty("partitions").GetInt32(), stats.GetProperty("ready").GetInt32() - readyBefore));
        return ids;
    }

    /// <summary>Polls (and completes) with the CLI until <paramref name="expected"/> tasks came back, or a poll returns none.</summary>
    private async Task<List<string>> PollAll(string queue, int expected)
    {
        var polled = new List<string>();
        while (polled.Count < expected)
        {
            var r = await fixture.Cli("poll", queue, "--max", "25", "--wait", "2s", "--complete", "--json");
            Ok(r);
            var tasks = r.Json.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("taskId").GetString()!).ToList();
            if (tasks.Count == 0) break;
            polled.AddRange(tasks);
        }
        return polled;
    }

    [Fact(DisplayName = "queue purge on a queue with per-queue partitions purges every partition and counts them all")]
    public async Task PurgeReachesEveryPartition()
    {
        var ids = await EnqueueOnEveryPartition("mp-purge");

        var purged = await fixture.Cli("queue", "purge", "mp-purge", "--json");
        Ok(purged);
        Assert.Equal(ids.Count, purged.Json.GetProperty("purged").GetInt32());

        var stats = await Stats("mp-purge");
        Assert.Equal((0, 0), (stats.GetProperty("ready").GetInt32(), stats.GetProperty("delayed").GetInt32()));
        var none = await fixture.Cli("poll", "mp-purge", "--max", "25", "--wait", "500ms", "--json");
        Ok(none);
        Assert.Equal(0, none.Json.GetProperty("tasks").GetArrayLength());
    }

    [Fact(DisplayName = "queue pause stops every partition while enqueues go on; queue resume lets every task be polled")]
    public async Task PauseAndResumeReachEveryPartition()
    {
        var ids = await EnqueueOnEveryPartition("mp-pause");

        Ok(await fixture.Cli("queue", "pause", "mp-pause"));
        Assert.True((await Stats("mp-pause")).GetProperty("paused").GetBoolean()); // true only when every partition says so
        var none = await fixture.Cli("poll", "mp-pause", "--max", "25", "--wait", "1s", "--json");
        Ok(none);
        Assert.Equal(0, none.Json.GetProperty("tasks").GetArrayLength());

        ids.AddRange(await EnqueueOnEveryPartition("mp-pause")); // accepted by paused partitions, and not dispatched either
        var stillNone = await fixture.Cli("poll", "mp-pause", "--max", "25", "--wait", "1s", "--json");
        Ok(stillNone);
        Assert.Equal(0, stillNone.Json.GetProperty("tasks").GetArrayLength());

        Ok(await fixture.Cli("queue", "resume", "mp-pause"));
        Assert.False((await Stats("mp-pause")).GetProperty("paused").GetBoolean());
        var polled = await PollAll("mp-pause", ids.Count);
        Assert.Equal(ids.Order(), polled.Order());
        Assert.Equal(0, (await Stats("mp-pause")).GetProperty("ready").GetInt32());
    }

    [Fact(DisplayName = "dlq requeue --all puts back the dead letters of every partition and counts them all")]
    public async Task RequeueReachesEveryPartition()
    {
        var ids = await EnqueueOnEveryPartition("mp-dlq", "--max-attempts", "1");
        var leases = new List<string>();
        while (leases.Count < ids.Count)
        {
            var r = await fixture.Cli("poll", "mp-dlq", "--max", "25", "--wait", "2s", "--lease", "1m", "--json");
            Ok(r);
            var tasks = r.Json.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("leaseToken").GetString()!).ToList();
            Assert.NotEmpty(tasks);
            leases.AddRange(tasks);
        }
        foreach (var lease in leases)
        {
            var failed = await fixture.Node.Ask<Failed>(new Fail(lease, "boom"));
            Assert.Equal(Conduit.Protocol.TaskStatus.DeadLettered, failed.Next);
        }
        var dead = await fixture.Cli("dlq", "list", "mp-dlq", "--json");
        Ok(dead);
        var deadIds = dead.Json.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("taskId").GetString()!).ToList();
        Assert.Equal(ids.Order(), deadIds.Order());
        Assert.Equal(Enumerable.Range(0, Partitions), deadIds.Select(PartitionOf).Distinct().Order());

        var requeued = await fixture.Cli("dlq", "requeue", "mp-dlq", "--all", "--json");
        Ok(requeued);
        Assert.Equal(ids.Count, requeued.Json.GetProperty("count").GetInt32());

        var stats = await Stats("mp-dlq");
        Assert.Equal((0, ids.Count), (stats.GetProperty("deadLettered").GetInt32(), stats.GetProperty("ready").GetInt32()));
        Assert.Equal(ids.Order(), (await PollAll("mp-dlq", ids.Count)).Order());
    }
}
