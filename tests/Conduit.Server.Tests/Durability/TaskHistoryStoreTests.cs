using System.Data.Common;
using Conduit.Protocol;
using Conduit.Server.History;
using Conduit.Server.Hosting;
using Conduit.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;

namespace Conduit.Server.Tests.Durability;

/// <summary>The task history's table on both stores (one contract, SQLite and PostgreSQL): listing settled tasks, workers, the upgrade of an older table.</summary>
[Collection(PostgresFixture.CollectionName)]
public sealed class TaskHistoryStoreTests(PostgresFixture pg)
{
    private static HistoryRecord Finished(string id, long atMs, TaskStatus status = TaskStatus.Completed, int attempt = 1, string? worker = "w1", string? reason = null) =>
        new(HistoryChange.Finished, id, "default", "q", attempt, atMs, status == TaskStatus.Completed ? AttemptOutcome.Completed : AttemptOutcome.Cancelled,
            reason, status, StartedAtMs: atMs - 1, Epoch: 1, Worker: worker);

    private static async Task<TaskHistoryStore> NewStore(string kind, PostgresServer server)
    {
        var store = new TaskHistoryStore(await TestStores.New(kind, server));
        await store.EnsureCreatedAsync(CancellationToken.None);
        Assert.True(await store.EnsureListingIndexAsync(CancellationToken.None));
        Assert.True(await store.EnsureListingIndexAsync(CancellationToken.None)); // there already: nothing to do
        return store;
    }

    private static async Task<List<TaskSummary>> ListAll(TaskHistoryStore store, TaskStatus status, int pageSize)
    {
        var all = new List<TaskSummary>();
        (long, string)? after = null;
        while (true)
        {
            var (items, more) = await store.ListAsync("default", "q", status, pageSize, after, CancellationToken.None);
            Assert.True(items.Length <= pageSize);
            all.AddRange(items);
            if (!more) return all;
            after = (items[^1].AtUnixMs, items[^1].TaskId);
        }
    }

    [Theory(DisplayName = "settled tasks page newest first, each once, through ties of finish time and ids whose text and number orders differ")]
    [InlineData(TestStores.Sqlite)]
    [InlineData(TestStores.Postgres)]
    public async Task ListsSettled(string kind)
    {
        var store = await NewStore(kind, pg.Server);
        // Counters 1..30 at priority 5: "#0:101" sorts before "#0:21" as text; ten share each finish time.
        var ids = Enumerable.Range(1, 30).Select(c => new TaskId(PartitionId.Of("q", c % 3), TaskId.MakeSeq(c, 5)).ToString()).ToList();
        await store.WriteAsync(ids.Select((id, i) => Finished(id, 5_000 + i / 10)).ToList(), 10_000, CancellationToken.None);
        // Another queue, another state, and a cancelled task that never started (no attempt, no worker).
        await store.WriteAsync([Finished("default/other#0:21", 5_000) with { Queue = "other" }, Finished("default/q#0:1045", 4_000, TaskStatus.Cancelled, attempt: 0, worker: null)],
            10_000, CancellationToken.None);

        var listed = await ListAll(store, TaskStatus.Completed, pageSize: 4);
        Assert.Equal(ids.Order(), listed.Select(t => t.TaskId).Order());
        var expected = listed.OrderByDescending(t => t.AtUnixMs).ThenByDescending(t => t.TaskId, StringComparer.Ordinal).Select(t => t.TaskId);
        Assert.Equal(expected, listed.Select(t => t.TaskId));
        Assert.All(listed, t => Assert.Equal((TaskStatus.Completed, 1, "w1", 5), (t.Status, t.Attempt, t.Worker, t.Priority)));

        var cancelled = Assert.Single(await ListAll(store, TaskStatus.Cancelled, pageSize: 10));
        Assert.Equal(("default/q#0:1045", 0, (string?)null, 4_000L), (cancelled.TaskId, cancelled.Attempt, cancelled.Worker, cancelled.AtUnixMs));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ListAsync("default", "q", TaskStatus.Running, 10, null, CancellationToken.None));
    }

    [Theory(DisplayName = "a listing names the last delivery's worker and reason even behind a long list of ended deliveries")]
    [InlineData(TestStores.Sqlite)]
    [InlineData(TestStores.Postgres)]
    public async Task LastAttemptBehindMany(string kind)
    {
        var store = await NewStore(kind, pg.Server);
        const string id = "default/q#0:21";
        var failures = Enumerable.Range(1, 40).Select(a => new HistoryRecord(HistoryChange.AttemptEnded, id, "default", "q", a, 1_000 + a, AttemptOutcome.Failed,
            new string('r', 300), Epoch: 1, Worker: $"w{a}")).ToList();
        await store.WriteAsync(failures, 2_000, CancellationToken.None);
        await store.WriteAsync([Finished(id, 3_000, TaskStatus.Cancelled, attempt: 41, worker: "last", reason: "enough")], 3_000, CancellationToken.None);
        var only = Assert.Single(await ListAll(store, TaskStatus.Cancelled, pageSize: 10));
        Assert.Equal((41, "last", "enough"), (only.Attempt, only.Worker, only.Reason));
        var details = (await store.ReadAsync(id, CancellationToken.None))!;
        Assert.Equal(TaskDetails.MaxAttempts, details.Attempts.Length);
        Assert.Equal(("w40", "last"), (details.Attempts[^2].Worker, details.Attempts[^1].Worker));
    }

    [Theory(DisplayName = "a table made before workers were kept gets the column; its rows read, and new ones keep their workers")]
    [InlineData(TestStores.Sqlite)]
    [InlineData(TestStores.Postgres)]
    public async Task UpgradesAnOlderTable(string kind)
    {
        var storage = await TestStores.New(kind, pg.Server);
        await using (var connection = Open(storage))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            var blob = kind == TestStores.Postgres ? "bytea" : "blob";
            // The layout of 2026-12-01, with one row in it.
            command.CommandText = $"""
                CREATE TABLE {TaskHistoryStore.TasksTable} (task_id text PRIMARY KEY, namespace text NOT NULL, queue text NOT NULL,
                    status smallint NOT NULL, payload {blob}, output {blob}, attempts text NOT NULL, running_attempt integer NOT NULL,
                    running_since bigint NOT NULL, enqueued_at bigint NOT NULL, finished_at bigint NOT NULL, epoch bigint NOT NULL,
                    updated_at bigint NOT NULL);
                INSERT INTO {TaskHistoryStore.TasksTable} VALUES ('default/q#0:21', 'default', 'q', 4, NULL, NULL, '1:10:20:1:
                ', 0, 0, 5, 20, 1, 20);
                """;
            await command.ExecuteNonQueryAsync();
        }
        var store = new TaskHistoryStore(storage);
        await store.EnsureCreatedAsync(CancellationToken.None);
        await store.EnsureCreatedAsync(CancellationToken.None); // twice: the column is there now
        Assert.True(await store.EnsureListingIndexAsync(CancellationToken.None));

        var old = (await store.ReadAsync("default/q#0:21", CancellationToken.None))!;
        Assert.Equal((1, AttemptOutcome.Completed, (string?)null), (old.Attempts.Single().Attempt, old.Attempts.Single().Outcome, old.Attempts.Single().Worker));
        await store.WriteAsync([new HistoryRecord(HistoryChange.Started, "default/q#0:37", "default", "q", 1, 30, Epoch: 1, Worker: "w9")], 30, CancellationToken.None);
        Assert.Equal("w9", (await store.ReadAsync("default/q#0:37", CancellationToken.None))!.Attempts.Single().Worker);
        Assert.Equal("default/q#0:21", Assert.Single((await store.ListAsync("default", "q", TaskStatus.Completed, 10, null, CancellationToken.None)).Items).TaskId);
    }

    [Fact(DisplayName = "building the listing index leaves its advisory lock free for other sessions, though the pool never resets its connections")]
    public async Task ListingIndexLockReleased()
    {
        var storage = await TestStores.NewPostgres(pg.Server);
        var store = new TaskHistoryStore(storage);
        await store.EnsureCreatedAsync(CancellationToken.None);
        Assert.True(await store.EnsureListingIndexAsync(CancellationToken.None));
        Assert.True(await store.EnsureListingIndexAsync(CancellationToken.None));
        // Another session (no pool): a lock left on a pooled connection would keep every other node from building it.
        await using var other = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(storage.ConnectionString) { Pooling = false }.ConnectionString);
        await other.OpenAsync();
        await using var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(7216395044)", other);
        Assert.Equal(true, await tryLock.ExecuteScalarAsync());
    }

    private static DbConnection Open(StorageOptions storage) => storage.Kind == StorageKind.PostgreSql
        ? new NpgsqlConnection(storage.HistoryConnectionString)
        : new SqliteConnection(storage.HistoryConnectionString);
}
