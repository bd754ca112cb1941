using System.Data.Common;
using System.Text;
using Conduit.Client.Worker;
using Conduit.Server.History;
using Conduit.Server.Hosting;
using Conduit.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Conduit.Client.Tests;

/// <summary>
/// Results and attempt history (docs/results.md) end to end: a real node on SQLite or PostgreSQL, <see cref="ConduitWorker"/>
/// and the typed client; the history's tables read directly where the test is about what is stored.
/// </summary>
[Collection(PostgresFixture.CollectionName)]
public sealed class TaskHistoryTests(PostgresFixture pg)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static Task<TestNode> StartNode(StorageOptions storage, TaskHistoryOptions? history = null) =>
        TestNode.StartAsync(new NodeSettings
        {
            Port = 0,
            ClusterPort = 0,
            Storage = storage,
            Server = new ConduitServerOptions { Partition = TestNode.FastPartitionOptions, History = history ?? new TaskHistoryOptions() },
        });

    private static string NewQueue() => "h-" + Guid.NewGuid().ToString("N")[..12];

    private static string Text(byte[]? bytes) => bytes is null ? "<null>" : Encoding.UTF8.GetString(bytes);

    /// <summary>Runs <paramref name="handler"/> on the queue's tasks until <paramref name="done"/> says so of the outcomes so far.</summary>
    private static async Task RunWorker(ConduitClient client, string queue, Func<IReadOnlyList<(string Payload, TaskOutcome Outcome)>, bool> done,
        Func<ConduitTask, CancellationToken, Task> handler)
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outcomes = new List<(string, TaskOutcome)>();
        await using var worker = new ConduitWorker(client, queue, handler, new ConduitWorkerOptions { MaxConcurrency = 2, PollWait = TimeSpan.FromSeconds(1) });
        worker.TaskFinished += (task, outcome) =>
        {
            lock (outcomes)
            {
                outcomes.Add((task.PayloadText, outcome));
                if (done(outcomes)) finished.TrySetResult();
            }
        };
        worker.Start();
        await finished.Task.WaitAsync(Patience);
    }

    [Theory(DisplayName = "a task's payload, result and every attempt are kept and returned by GetTask, also after the node restarts")]
    [InlineData(TestStores.Sqlite)]
    [InlineData(TestStores.Postgres)]
    public async Task ResultAndAttempts(string store)
    {
        var storage = await TestStores.New(store, pg.Server);
        var queue = NewQueue();
        string okId, deadId;
        var node = await StartNode(storage);
        try
        {
            await using (var client = ConduitClient.Connect(node.Server))
            {
                var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                okId = (await client.EnqueueAsync(queue, "in-ok", new EnqueueOptions { MaxAttempts = 3 })).TaskId;
                deadId = (await client.EnqueueAsync(queue, "in-dead", new EnqueueOptions { MaxAttempts = 3 })).TaskId;
                await RunWorker(client, queue,
                    o => o.Contains(("in-ok", TaskOutcome.Completed)) && o.Contains(("in-dead", TaskOutcome.Failed)), (task, _) =>
                {
                    if (task.PayloadText == "in-dead") throw new ConduitTaskException("no such customer", retryable: false);
                    if (task.Attempt == 1) throw new InvalidOperationException("flaky downstream");
                    task.SetResult("out-" + task.Attempt);
                    return Task.CompletedTask;
                });

                var ok = await client.GetTaskAsync(okId);
                Assert.Equal(TaskStatus.Completed, ok.Status);
                var details = Assert.IsType<TaskDetails>(ok.Details);
                Assert.True(details.Recorded);
                Assert.Equal(("in-ok", "out-2"), (Text(details.Payload), Text(details.Output)));
                Assert.Equal([(1, AttemptOutcome.Failed), (2, AttemptOutcome.Completed)], details.Attempts.Select(a => (a.Attempt, a.Outcome)).ToArray());
                Assert.Contains("flaky downstream", details.Attempts[0].Reason);
                Assert.Null(details.Attempts[1].Reason);
                Assert.All(details.Attempts, a => Assert.True(a.StartedAtUnixMs >= before && a.EndedAtUnixMs >= a.StartedAtUnixMs, $"{a}"));
                Assert.True(details.Attempts[1].StartedAtUnixMs >= details.Attempts[0].EndedAtUnixMs);
                Assert.True(details.EnqueuedAtUnixMs >= before - 1000 && details.EnqueuedAtUnixMs <= details.Attempts[0].StartedAtUnixMs);
                Assert.Equal(details.Attempts[1].EndedAtUnixMs, details.FinishedAtUnixMs);

                var dead = await client.GetTaskAsync(deadId);
                Assert.Equal(TaskStatus.DeadLettered, dead.Status);
                var deadDetails = dead.Details!;
                Assert.Equal(("in-dead", "<null>"), (Text(deadDetails.Payload), Text(deadDetails.Output)));
                var only = Assert.Single(deadDetails.Attempts);
                Assert.Equal((1, AttemptOutcome.Failed), (only.Attempt, only.Outcome));
                Assert.Contains("no such customer", only.Reason);
                Assert.True(deadDetails.FinishedAtUnixMs > 0);

                // A task not started yet: its payload from the partition's memory, no attempts, not in the history.
                var waitingId = (await client.EnqueueAsync(queue, "in-waiting", new EnqueueOptions { Delay = TimeSpan.FromHours(1) })).TaskId;
                var waiting = await client.GetTaskAsync(waitingId);
                Assert.Equal(TaskStatus.Scheduled, waiting.Status);
                Assert.Equal((false, 0), (waiting.Details!.Recorded, waiting.Details.Attempts.Length));
            }
        }
        finally
        {
            await node.DisposeAsync();
        }

        node = await StartNode(storage);
        try
        {
            await using var client = ConduitClient.Connect(node.Server);
            var ok = await client.GetTaskAsync(okId);
            Assert.Equal(TaskStatus.Completed, ok.Status);
            Assert.Equal(("in-ok", "out-2", 2), (Text(ok.Details!.Payload), Text(ok.Details.Output), ok.Details.Attempts.Length));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact(DisplayName = "a result over 64 KiB is refused with InvalidArgument and changes nothing: the same lease then completes")]
    public async Task ResultTooLarge()
    {
        await using var node = await StartNode(await TestStores.NewPostgres(pg.Server));
        await using var client = ConduitClient.Connect(node.Server);
        var queue = NewQueue();
        var id = (await client.EnqueueAsync(queue, "big")).TaskId;
        var task = Assert.Single(await client.PollAsync(queue, 1, TimeSpan.FromSeconds(5)));

        // The client refuses it before sending; the node refuses it from anyone else.
        await Assert.ThrowsAsync<ArgumentException>(() => client.CompleteAsync(task.LeaseToken, new byte[Complete.MaxOutputBytes + 1]));
        var refused = await Assert.ThrowsAsync<RejectedException>(() => node.Ask<Completed>(new Complete(task.LeaseToken, Output: new byte[Complete.MaxOutputBytes + 1])));
        Assert.Equal(ErrorCode.InvalidArgument, refused.Code);
        Assert.Equal(TaskStatus.Running, (await client.GetTaskAsync(id)).Status);

        await client.CompleteAsync(task.LeaseToken, new byte[Complete.MaxOutputBytes]);
        var info = await client.GetTaskAsync(id);
        Assert.Equal((TaskStatus.Completed, Complete.MaxOutputBytes), (info.Status, info.Details!.Output!.Length));
    }

    [Fact(DisplayName = "completions sent together keep each its own result (one request, many leases)")]
    public async Task BatchedResults()
    {
        await using var node = await StartNode(await TestStores.NewPostgres(pg.Server));
        await using var client = ConduitClient.Connect(node.Server);
        var queue = NewQueue();
        var ids = (await client.EnqueueBatchAsync(queue, Enumerable.Range(0, 20).Select(i => Encoding.UTF8.GetBytes("p" + i)))).Select(r => r.TaskId).ToList();
        var tasks = new List<ConduitTask>();
        while (tasks.Count < ids.Count) tasks.AddRange(await client.PollAsync(queue, ids.Count - tasks.Count, TimeSpan.FromSeconds(5)));
        // Concurrent completions of one partition share requests (CompletionBatcher); every third has no result.
        await Task.WhenAll(tasks.Select(t => client.CompleteAsync(t.LeaseToken, t.PayloadText.EndsWith('0') ? null : Encoding.UTF8.GetBytes("r-" + t.PayloadText))));
        foreach (var t in tasks)
        {
            var info = await client.GetTaskAsync(t.Id);
            Assert.Equal(t.PayloadText.EndsWith('0') ? "<null>" : "r-" + t.PayloadText, Text(info.Details!.Output));
        }
    }

    [Theory(DisplayName = "the history keeps a task for the retention after its last change, then trims it; the task's status stays known")]
    [InlineData(TestStores.Sqlite)]
    [InlineData(TestStores.Postgres)]
    public async Task Retention(string store)
    {
        var storage = await TestStores.New(store, pg.Server);
        await using var node = await StartNode(storage, new TaskHistoryOptions { RetentionMs = 2_000, TrimIntervalMs = 200 });
        await using var client = ConduitClient.Connect(node.Server);
        var queue = NewQueue();
        var id = (await client.EnqueueAsync(queue, "short-lived")).TaskId;
        var task = Assert.Single(await client.PollAsync(queue, 1, TimeSpan.FromSeconds(5)));
        await client.CompleteAsync(task.LeaseToken, Encoding.UTF8.GetBytes("done"));
        var completedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var kept = await client.GetTaskAsync(id);
        Assert.Equal((true, "done"), (kept.Details!.Recorded, Text(kept.Details.Output)));
        Assert.Equal(1L, await CountRows(storage, id));

        await AwaitAssert(async () => Assert.Equal(0L, await CountRows(storage, id)), TimeSpan.FromSeconds(15));
        Assert.True(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - completedAt >= 2_000, "trimmed before the retention was over");
        var trimmed = await client.GetTaskAsync(id);
        Assert.Equal((TaskStatus.Completed, false, "<null>"), (trimmed.Status, trimmed.Details!.Recorded, Text(trimmed.Details.Output)));
    }

    [Fact(DisplayName = "with the history off (retention 0) nothing is written: no tables, GetTask answers without a record")]
    public async Task HistoryOff()
    {
        var storage = await TestStores.NewPostgres(pg.Server);
        await using var node = await StartNode(storage, new TaskHistoryOptions { RetentionMs = 0 });
        await using var client = ConduitClient.Connect(node.Server);
        var queue = NewQueue();
        var id = (await client.EnqueueAsync(queue, "x")).TaskId;
        var task = Assert.Single(await client.PollAsync(queue, 1, TimeSpan.FromSeconds(5)));
        await client.CompleteAsync(task.LeaseToken, Encoding.UTF8.GetBytes("ignored"));
        var info = await client.GetTaskAsync(id);
        Assert.Equal((TaskStatus.Completed, false), (info.Status, info.Details?.Recorded ?? false));
        await using var connection = new NpgsqlConnection(storage.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT to_regclass('conduit_task_history') IS NULL", connection);
        Assert.True((bool)(await command.ExecuteScalarAsync())!);
    }

    /// <summary>Rows of <paramref name="taskId"/> in the history's table.</summary>
    private static async Task<long> CountRows(StorageOptions storage, string taskId)
    {
        await using DbConnection connection = storage.Kind == StorageKind.PostgreSql
            ? new NpgsqlConnection(storage.ConnectionString)
            : new SqliteConnection(storage.HistoryConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM conduit_task_history WHERE task_id = @id";
        var p = command.CreateParameter();
        p.ParameterName = "@id";
        p.Value = taskId;
        command.Parameters.Add(p);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private static async Task AwaitAssert(Func<Task> assertion, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
