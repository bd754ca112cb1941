using System.Text;
using Conduit.Protocol;
using Conduit.Server.Hosting;
using Conduit.Server.Matching;
using Conduit.Server.Tests.Matching;
using Conduit.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Conduit.Server.Tests.Durability;

/// <summary>What survives a crash, what reaches the journal, and how much of it: against SQLite and PostgreSQL.</summary>
[Collection(PostgresFixture.CollectionName)]
public sealed class DurabilityTests(PostgresFixture pg, ITestOutputHelper output)
{
    private static string Text(LeasedTask t) => Encoding.UTF8.GetString(t.Payload);
    private static string Pid(string queue) => QueuePartition.PersistenceIdOf(PartitionId.Of(queue, 0));

    [Theory(DisplayName = "after an abrupt stop every acknowledged task is there, completed ones are not delivered again, an unacknowledged lease is redelivered after its timeout")]
    [InlineData(TestStores.Sqlite)]
    [InlineData(TestStores.Postgres)]
    public async Task CrashAndRecover(string store)
    {
        var storage = await TestStores.New(store, pg.Server);
        const string q = "crash";
        var node = await TestNode.StartAsync(storage);
        for (var i = 0; i < 30; i++) await node.Enqueue(q, $"t{i}");
        var leased = await node.Poll(q, max: 5);
        Assert.Equal(["t0", "t1", "t2", "t3", "t4"], leased.Select(Text));
        foreach (var t in leased.Take(4)) await node.Ask<Completed>(new Complete(t.LeaseToken));
        await node.KillAsync();

        await using var again = await TestNode.StartAsync(storage);
        var delivered = new List<LeasedTask>();
        var firstPoll = await again.Poll(q, max: 50, waitMs: 500);
        for (var (i, tasks) = (0, firstPoll); i < 60 && delivered.Count < 26; i++, tasks = await again.Poll(q, max: 50, waitMs: 500))
        {
            delivered.AddRange(tasks);
            foreach (var t in tasks) await again.Ask<Completed>(new Complete(t.LeaseToken));
        }

        Assert.Equal(Enumerable.Range(4, 26).Select(i => $"t{i}").Order(), delivered.Select(Text).Order());
        Assert.DoesNotContain(firstPoll, t => Text(t) == "t4"); // held for a lease timeout: it may still be running
        var redelivered = Assert.Single(delivered, t => Text(t) == "t4");
        Assert.Equal(2, redelivered.Attempt);
        Assert.Equal(TaskStatus.Completed, (await again.Ask<TaskInfo>(new GetTask(leased[0].TaskId))).Status);
    }

    [Theory(DisplayName = "1,000 concurrent enqueues reach the journal in far fewer than 1,000 events")]
    [InlineData(TestStores.Sqlite)]
    [InlineData(TestStores.Postgres)]
    public async Task Batching(string store)
    {
        var storage = await TestStores.New(store, pg.Server);
        const string q = "batching";
        await using var node = await TestNode.StartAsync(storage);
        await node.Enqueue(q, "warm-up"); // the partition exists and has recovered
        var before = await JournalInspector.LiveEvents(storage, Pid(q));
        var replies = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => node.Enqueue(q, $"t{i}")));
        var events = await JournalInspector.LiveEvents(storage, Pid(q)) - before;
        Assert.Equal(1000, replies.Select(r => r.TaskId).Distinct().Count());
        Assert.Equal(1001, (await node.Ask<QueueStats>(new GetQueueStats(q))).Ready);
        Assert.InRange(events, 1, 200);
    }

    [Theory(DisplayName = "a backlog far larger than the in-memory window drains completely, by priority then age, across a restart")]
    [InlineData(TestStores.Sqlite)]
    [InlineData(TestStores.Postgres)]
    public async Task BigBacklog(string store)
    {
        var storage = await TestStores.New(store, pg.Server);
        const string q = "backlog";
        var options = TestNode.FastPartitionOptions with { ReadyWindow = 50, ReadPageEvents = 4 };
        var random = new Random(5);
        var expected = new List<(int Priority, int Index)>();
        var node = await TestNode.StartAsync(storage, options);
        for (var b = 0; b < 20; b++)
        {
            var specs = Enumerable.Range(b * 100, 100).Select(i =>
            {
                var p = random.Next(0, 10);
                expected.Add((p, i));
                return new TaskSpec(Encoding.UTF8.GetBytes($"{p}:{i}"), Priority: p);
            }).ToArray();
            await node.Ask<EnqueuedBatch>(new EnqueueBatch(q, specs));
        }
        // Drain part of it, then restart: the rest must come back from the journal in the same order.
        var got = new List<string>();
        await Drain(node, q, got, until: 500);
        await node.KillAsync();
        await using var again = await TestNode.StartAsync(storage, options);
        await Drain(again, q, got, until: 2000);
        Assert.Equal(expected.OrderByDescending(e => e.Priority).ThenBy(e => e.Index).Select(e => $"{e.Priority}:{e.Index}"), got);
        Assert.Empty(await again.Poll(q, waitMs: 200));
    }

    private static async Task Drain(TestNode node, string q, List<string> got, int until)
    {
        for (var i = 0; i < 1000 && got.Count < until; i++)
        {
            // A lease long enough for 25 completes one by one on a loaded machine: this test is about order, not expiry
            // (with the fast options' 2 s lease, a machine at load 35 let one run out).
            var tasks = await node.Poll(q, max: Math.Min(25, until - got.Count), waitMs: 2_000, leaseMs: 60_000);
            foreach (var t in tasks)
            {
                got.Add(Text(t));
                await node.Ask<Completed>(new Complete(t.LeaseToken));
            }
        }
    }

    [Theory(DisplayName = "snapshots and clean-up keep the journal within its stated bound however many tasks went through, with tasks due far ahead, once the partition is quiet; recovery still works")]
    [InlineData(TestStores.Sqlite)]
    [InlineData(TestStores.Postgres)]
    public async Task SnapshotsBoundTheJournal(string store)
    {
        var storage = await TestStores.New(store, pg.Server);
        const string q = "bounded";
        // Compaction at rest once 300 ms pass without a write, so quiet comes soon.
        var options = TestNode.FastPartitionOptions with { SnapshotEvery = 20, CompactAtRestAfterMs = 300 };
        var node = await TestNode.StartAsync(storage, options);
        // Tasks due far ahead stay unsettled throughout: they are written anew instead of pinning the journal.
        var far = (await node.Ask<EnqueuedBatch>(new EnqueueBatch(q,
            Enumerable.Range(0, 10).Select(i => new TaskSpec(Encoding.UTF8.GetBytes($"far{i}"), DelayMs: 3_600_000)).ToArray()))).Results;
        for (var i = 0; i < 150; i++)
        {
            await node.Enqueue(q, $"t{i}");
            var t = Assert.Single(await node.Poll(q));
            await node.Ask<Completed>(new Complete(t.LeaseToken));
        }
        // What the code guarantees (docs/backlog-paging.md): with storage keeping up, at most 4 x max(SnapshotEvery, R)
        // + 2R live events. Snapshot saves, deletes and relocation reads run behind the writes (on SQLite they wait on its
        // lock for seconds), so the journal may stand above that while tasks flow; once the partition is quiet,
        // compaction at rest snapshots, relocates and deletes until it is within. Wait for that, don't sleep.
        var bound = JournalBound.Events(options, longLived: far.Length);
        var inTraffic = await JournalInspector.LiveEvents(storage, Pid(q));
        await Eventually.Holds(async () =>
        {
            Assert.InRange(await JournalInspector.LiveEvents(storage, Pid(q)), 1, bound);
            Assert.InRange(await JournalInspector.Snapshots(storage, Pid(q)), 1, 2);
        });
        output.WriteLine($"{store}: {inTraffic} live events right after ~450 written, {await JournalInspector.LiveEvents(storage, Pid(q))} once quiet (bound {bound})");
        await node.Enqueue(q, "last");
        await node.KillAsync();
        await using var again = await TestNode.StartAsync(storage, options);
        Assert.Equal("last", Text(Assert.Single(await again.Poll(q, max: 10))));
        foreach (var task in far) Assert.Equal(TaskStatus.Scheduled, (await again.Ask<TaskInfo>(new GetTask(task.TaskId))).Status);
        Assert.Empty(await again.Poll(q, waitMs: 200));
    }

    [Fact(DisplayName = "when PostgreSQL goes away, writes are refused with Unavailable instead of acknowledged")]
    public async Task StorageDown()
    {
        var server = await PostgresServer.StartAsync();
        var storage = StorageOptions.Postgres(await server.CreateDatabaseAsync("down"));
        await using var node = await TestNode.StartAsync(storage);
        await node.Enqueue("down", "before");
        await server.DisposeAsync();
        Assert.Equal(ErrorCode.Unavailable, await node.Refusal(new Enqueue("down", new TaskSpec([1]))));
    }
}
