using System.Globalization;
using System.Text;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>Schedules end to end: a real node on PostgreSQL, the typed client, tasks polled from the queue a schedule fills.</summary>
public sealed class ScheduleTests(PostgresClientNodeFixture fixture) : IClassFixture<PostgresClientNodeFixture>
{
    private ConduitClient Client => fixture.Client;

    private static ScheduleSpec EverySecond(string queue, string payload = "tick", OverlapPolicy overlap = OverlapPolicy.Allow) =>
        new(queue, new TaskSpec(Encoding.UTF8.GetBytes(payload), new Dictionary<string, string> { ["kind"] = "report" }), IntervalMs: 1_000, Overlap: overlap);

    private static long DueOf(ConduitTask task) => long.Parse(task.Headers[ScheduleSpec.DueHeader], CultureInfo.InvariantCulture);

    private async Task<List<ConduitTask>> PollUntil(string queue, int count, TimeSpan within)
    {
        var tasks = new List<ConduitTask>();
        using var timeout = new CancellationTokenSource(within);
        while (tasks.Count < count && !timeout.IsCancellationRequested)
            tasks.AddRange(await Client.PollAsync(queue, count - tasks.Count, TimeSpan.FromSeconds(2), lease: TimeSpan.FromMinutes(1)));
        return tasks;
    }

    [Fact(DisplayName = "an interval schedule enqueues one task per due time, each once, with the schedule and its due time in the headers")]
    public async Task IntervalRuns()
    {
        var created = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var info = await Client.PutScheduleAsync("every-second", EverySecond("sched-interval"));
        Assert.Equal(("every-second", false, 0L), (info.Name, info.Paused, info.Runs));
        Assert.Equal(5, info.NextDueUnixMs.Length);
        Assert.All(info.NextDueUnixMs.Zip(info.NextDueUnixMs.Skip(1)), p => Assert.Equal(1_000, p.Item2 - p.Item1));

        var tasks = await PollUntil("sched-interval", 4, TimeSpan.FromSeconds(20));
        Assert.Equal(4, tasks.Count);
        var dues = tasks.Select(DueOf).Order().ToArray();
        Assert.True(dues.Length == dues.Distinct().Count(), string.Join("; ", tasks.Select(t => $"{t.Id} due {DueOf(t)} attempt {t.Attempt}")) + $" created {created}");
        Assert.All(dues, due => Assert.True(due > created - 1_000, $"due {due} is after the schedule was created ({created})"));
        Assert.All(dues.Zip(dues.Skip(1)), p => Assert.Equal(0, (p.Item2 - p.Item1) % 1_000));
        Assert.All(tasks, t => Assert.Equal(("every-second", "report", "tick"),
            (t.Headers[ScheduleSpec.ScheduleHeader], t.Headers["kind"], Encoding.UTF8.GetString(t.Payload))));
        foreach (var t in tasks) await Client.CompleteAsync(t.LeaseToken);

        var after = await Client.GetScheduleAsync("every-second");
        Assert.True(after.Runs >= 4, $"runs {after.Runs}");
        Assert.True(after.LastDueUnixMs >= dues[^1]);
        Assert.All(after.NextDueUnixMs, next => Assert.True(next > after.LastDueUnixMs));
        await Client.DeleteScheduleAsync("every-second");
    }

    [Fact(DisplayName = "a paused schedule runs nothing; resumed, it goes on from the next due time without the paused ones; a trigger runs once even when paused")]
    public async Task PauseResumeTrigger()
    {
        await Client.PutScheduleAsync("pausable", EverySecond("sched-pause"));
        var first = await PollUntil("sched-pause", 1, TimeSpan.FromSeconds(10));
        Assert.Single(first);
        await Client.CompleteAsync(first[0].LeaseToken);

        var paused = await Client.PauseScheduleAsync("pausable");
        Assert.True(paused.Paused);
        Assert.Empty(paused.NextDueUnixMs);
        var pausedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Drain what was enqueued before the pause took effect, then nothing for 3 s (three due times).
        var drained = await Client.PollAsync("sched-pause", 10, TimeSpan.FromMilliseconds(500));
        Assert.True(drained.All(t => DueOf(t) <= pausedAt), "no run due after the pause");
        foreach (var t in drained) await Client.CompleteAsync(t.LeaseToken);
        Assert.Empty(await Client.PollAsync("sched-pause", 10, TimeSpan.FromSeconds(3)));

        var triggered = await Client.TriggerScheduleAsync("pausable");
        var manual = Assert.Single(await Client.PollAsync("sched-pause", 10, TimeSpan.FromSeconds(5)));
        Assert.Equal((triggered, "manual"), (manual.Id, manual.Headers[ScheduleSpec.DueHeader]));
        await Client.CompleteAsync(manual.LeaseToken);

        var resumedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var resumed = await Client.ResumeScheduleAsync("pausable");
        Assert.False(resumed.Paused);
        var next = await PollUntil("sched-pause", 1, TimeSpan.FromSeconds(10));
        Assert.True(DueOf(Assert.Single(next)) > resumedAt, "the first run after resuming is due after the resume");
        await Client.CompleteAsync(next[0].LeaseToken);

        var list = await Client.ListSchedulesAsync();
        Assert.Contains(list.Schedules, s => s.Name == "pausable");
        Assert.Equal(new ScheduleDeleted("pausable", ConduitClientOptions.DefaultNamespace), await Client.DeleteScheduleAsync("pausable"));
        await Assert.ThrowsAsync<ScheduleNotFoundException>(() => Client.GetScheduleAsync("pausable"));
        await Assert.ThrowsAsync<ScheduleNotFoundException>(() => Client.TriggerScheduleAsync("pausable"));
        Assert.DoesNotContain((await Client.ListSchedulesAsync()).Schedules, s => s.Name == "pausable");
    }

    [Fact(DisplayName = "with overlap Skip, due times are skipped and counted while the previous run's task is running; once it completes, runs go on")]
    public async Task OverlapSkip()
    {
        await Client.PutScheduleAsync("no-overlap", EverySecond("sched-overlap", overlap: OverlapPolicy.Skip));
        var running = Assert.Single(await PollUntil("sched-overlap", 1, TimeSpan.FromSeconds(10)));
        await Eventually.Holds(async () => Assert.True((await Client.GetScheduleAsync("no-overlap")).Skipped >= 2), timeoutMs: 15_000, intervalMs: 200);
        Assert.Equal(0, (await Client.GetQueueStatsAsync("sched-overlap")).Ready);

        await Client.CompleteAsync(running.LeaseToken);
        var next = Assert.Single(await PollUntil("sched-overlap", 1, TimeSpan.FromSeconds(10)));
        Assert.True(DueOf(next) > DueOf(running));
        await Client.CompleteAsync(next.LeaseToken);
        await Client.DeleteScheduleAsync("no-overlap");
    }

    [Fact(DisplayName = "a client's enqueue may not use a schedule's idempotency key prefix or headers: refused, nothing enqueued")]
    public async Task ReservedKeysAndHeaders()
    {
        var key = await Assert.ThrowsAsync<InvalidArgumentException>(() =>
            Client.EnqueueAsync("sched-reserved", "x", new EnqueueOptions { IdempotencyKey = "schedule:nightly:1:2" }));
        Assert.Contains("reserved for schedules", key.Message);
        var header = await Assert.ThrowsAsync<InvalidArgumentException>(() => Client.EnqueueBatchAsync("sched-reserved",
            [new TaskSpec([1], new Dictionary<string, string> { [ScheduleSpec.DueHeader] = "1" })]));
        Assert.Contains("set by schedules only", header.Message);
        Assert.Equal(0, (await Client.GetQueueStatsAsync("sched-reserved")).Ready);
    }

    [Fact(DisplayName = "a schedule deleted and at once created again runs, with its counters from zero")]
    public async Task DeleteThenCreateAgain()
    {
        await Client.PutScheduleAsync("again", EverySecond("sched-again"));
        var first = Assert.Single(await PollUntil("sched-again", 1, TimeSpan.FromSeconds(10)));
        await Client.CompleteAsync(first.LeaseToken);
        await Client.DeleteScheduleAsync("again");
        var created = await Client.PutScheduleAsync("again", EverySecond("sched-again", "second life"));
        Assert.Equal((0L, 0L, (string?)null), (created.Runs, created.Skipped, created.LastTaskId));
        // Drain what the first life left, then the new one's runs keep coming (the entity was not passivated away).
        await Eventually.Holds(async () =>
        {
            var tasks = await Client.PollAsync("sched-again", 10, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1));
            foreach (var t in tasks) await Client.CompleteAsync(t.LeaseToken);
            Assert.Contains(tasks, t => t.PayloadText == "second life");
        }, timeoutMs: 20_000, intervalMs: 100);
        Assert.True((await Client.GetScheduleAsync("again")).Runs >= 1);
        await Client.DeleteScheduleAsync("again");
    }

    [Theory(DisplayName = "a schedule that cannot run is refused with InvalidArgument, and nothing is created")]
    [InlineData("cron", "not a cron", 0L, "invalid cron expression")]
    [InlineData("both", "*/5 * * * *", 5_000L, "exactly one of a cron expression and an interval")]
    [InlineData("neither", null, 0L, "exactly one of a cron expression and an interval")]
    [InlineData("fast", null, 10L, "an interval is 1000 ms")]
    public async Task BadSpecRefused(string name, string? cron, long intervalMs, string message)
    {
        var spec = new ScheduleSpec("sched-bad", new TaskSpec([1]), Cron: cron, IntervalMs: intervalMs);
        var refused = await Assert.ThrowsAsync<InvalidArgumentException>(() => Client.PutScheduleAsync("bad-" + name, spec));
        Assert.Contains(message, refused.Message);
        await Assert.ThrowsAsync<ScheduleNotFoundException>(() => Client.GetScheduleAsync("bad-" + name));
    }

    [Fact(DisplayName = "a template with its own idempotency key, a bad name or an unknown time zone is refused")]
    public async Task BadTemplateAndNames()
    {
        var keyed = new ScheduleSpec("sched-bad", new TaskSpec([1], IdempotencyKey: "k"), IntervalMs: 60_000);
        Assert.Contains("idempotency key", (await Assert.ThrowsAsync<InvalidArgumentException>(() => Client.PutScheduleAsync("keyed", keyed))).Message);
        var zone = new ScheduleSpec("sched-bad", new TaskSpec([1]), Cron: "0 9 * * *", TimeZone: "Mars/Olympus");
        Assert.Contains("unknown time zone", (await Assert.ThrowsAsync<InvalidArgumentException>(() => Client.PutScheduleAsync("zoned", zone))).Message);
        await Assert.ThrowsAsync<InvalidArgumentException>(() => Client.PutScheduleAsync("Bad Name", new ScheduleSpec("sched-bad", new TaskSpec([1]), IntervalMs: 60_000)));
        await Assert.ThrowsAsync<InvalidQueueNameException>(() => Client.PutScheduleAsync("badqueue", new ScheduleSpec("Q!", new TaskSpec([1]), IntervalMs: 60_000)));
    }

    [Fact(DisplayName = "a cron schedule in a time zone shows its next due times in that zone's wall clock")]
    public async Task CronInZone()
    {
        var info = await Client.PutScheduleAsync("berlin-nine", new ScheduleSpec("sched-cron", new TaskSpec([1]), Cron: "0 9 * * *", TimeZone: "Europe/Berlin"));
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        Assert.Equal(5, info.NextDueUnixMs.Length);
        Assert.All(info.NextDueUnixMs, due =>
        {
            var local = TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(due), berlin);
            Assert.Equal((9, 0, 0), (local.Hour, local.Minute, local.Second));
        });
        await Client.DeleteScheduleAsync("berlin-nine");
    }
    [Fact(DisplayName = "a namespace's schedule limit: one more is refused with QuotaExceeded and changes nothing; a change of one that exists, another namespace, and a creation after a delete are not; a lookup of the name first does not get past it; creations sent together are counted one after the other, and a namespace's changes act in the order they came")]
    public async Task LimitPerNamespace()
    {
        await using var node = await TestNode.StartAsync(new Conduit.Server.Hosting.NodeSettings
        {
            Port = 0,
            ClusterPort = 0,
            Storage = TestStores.NewSqlite(),
            Server = new Conduit.Server.Hosting.ConduitServerOptions { Partition = TestNode.FastPartitionOptions, MaxSchedulesPerNamespace = 2 },
        });
        await using var client = ConduitClient.Connect(node.Server);
        await using var other = new ConduitClient(new ConduitClientOptions { Servers = [node.Server], Namespace = "other" });
        var spec = new ScheduleSpec("capped", new TaskSpec("x"u8.ToArray()), IntervalMs: 3_600_000);
        await client.PutScheduleAsync("a", spec);
        await client.PutScheduleAsync("b", spec);

        var refused = await Assert.ThrowsAsync<QuotaExceededException>(() => client.PutScheduleAsync("c", spec));
        Assert.Contains("namespace default has 2 schedules", refused.Message);
        Assert.Contains("its limit (--max-schedules-per-namespace 2)", refused.Message);
        await Assert.ThrowsAsync<ScheduleNotFoundException>(() => client.GetScheduleAsync("c"));
        // The lookup started an entity for the name: a creation after it is still one more.
        await Assert.ThrowsAsync<QuotaExceededException>(() => client.PutScheduleAsync("c", spec));
        Assert.Equal(["a", "b"], (await client.ListSchedulesAsync()).Schedules.Select(s => s.Name));

        Assert.Equal(7_200_000, (await client.PutScheduleAsync("a", spec with { IntervalMs = 7_200_000 })).Spec.IntervalMs);
        await other.PutScheduleAsync("c", spec);

        // A deleted schedule's entity stops once its journal is deleted: then there is room again.
        await client.DeleteScheduleAsync("b");
        await Eventually.Holds(() => client.PutScheduleAsync("c", spec), timeoutMs: 10_000, intervalMs: 100);
        Assert.Equal(["a", "c"], (await client.ListSchedulesAsync()).Schedules.Select(s => s.Name));

        // Five creations sent at once through one node: counted one after the other, so two get in.
        var burst = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => Outcome(node.Manage<ScheduleInfo>(new PutSchedule($"s{i}", spec, "burst")))));
        Assert.Equal(2, burst.Count(o => o is ScheduleInfo));
        Assert.Equal(3, burst.Count(o => o is RejectedException { Code: ErrorCode.QuotaExceeded }));

        // A save and a pause sent together act in that order (the save is counted first, the pause waits for it).
        var saved = node.Manage<ScheduleInfo>(new PutSchedule("ordered", spec, "seq"));
        var paused = node.Manage<ScheduleInfo>(new PauseSchedule("ordered", "seq"));
        await saved;
        Assert.True((await paused).Paused);
        Assert.True((await node.Manage<ScheduleInfo>(new GetSchedule("ordered", "seq"))).Paused);
    }

    private static async Task<object> Outcome(Task<ScheduleInfo> call)
    {
        try { return await call; }
        catch (RejectedException e) { return e; }
    }
}
