using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Conduit.Protocol;
using Conduit.Server.Hosting;
using Conduit.Server.Matching;
using Conduit.Testing;
using Xunit;
using static Conduit.Cluster.Tests.ClusterSpecSupport;

namespace Conduit.Cluster.Tests;

[Collection(PostgresFixture.CollectionName)]
public sealed class FailoverSpec(PostgresFixture pg)
{
    private static readonly PartitionOptions Options = TestNode.FastPartitionOptions with { LeaseTimeoutMs = 4_000 };

    private sealed record Delivery(string Payload, LeasedTask Task, long DeliveredAtMs)
    {
        public volatile bool Completed;
        /// <summary>When its completion was acknowledged (ms since the test began), when it was.</summary>
        public long CompletedAtMs;
        /// <summary>Why its completion was not acknowledged (no answer in time, Unavailable, …), when it was not.</summary>
        public volatile string? CompleteRefused;
    }

    [Fact(DisplayName = "a task-service node killed while producers and workers run: every acknowledged task completes, duplicates only for tasks in flight, heartbeating tasks are not redelivered")]
    public async Task KillTaskServiceNode()
    {
        await using var cluster = await ThreeNodes.StartAsync(pg.Server);
        var (a, c) = (cluster.Frontend, cluster.Leaving);
        var clock = Stopwatch.StartNew();

        // Long-running tasks, held by a worker that keeps heartbeating through the crash, on a queue whose partition
        // the node that will be killed holds (queues are tried until one lands there). A queue has 4 partitions and its
        // enqueue starts one of them, on either task-service node, and the node to be killed takes shards only once its
        // region has registered: 40 tries were not always enough (1 in 8 lands there at best), so try for up to a minute.
        var longQueue = "";
        var trying = Stopwatch.StartNew();
        for (var n = 0; longQueue == "" && trying.Elapsed < TimeSpan.FromSeconds(60); n++)
        {
            await Retry(() => a.Enqueue($"long-{n}", "probe"));
            if ((await c.HostedPartitions()).Contains(PartitionId.Of($"long-{n}", 0).EntityId)) longQueue = $"long-{n}";
        }
        Assert.True(longQueue != "", "no queue's partition landed on the node to be killed");
        var probe = Assert.Single(await a.Poll(longQueue, max: 1, waitMs: 500));
        await a.Ask<Completed>(new Complete(probe.LeaseToken));
        for (var i = 0; i < 4; i++) await Retry(() => a.Enqueue(longQueue, $"long-{i}", key: $"long-{i}"));
        var held = new List<LeasedTask>();
        for (var i = 0; i < 50 && held.Count < 4; i++) held.AddRange(await a.Poll(longQueue, max: 4, waitMs: 500, leaseMs: 4_000));
        Assert.Equal(4, held.Count);
        using var stopHeartbeats = new CancellationTokenSource();
        // Tasks the test has started to complete: their heartbeats, still running, may then be refused as completed.
        var completing = new ConcurrentDictionary<string, bool>();
        var heartbeats = Task.Run(async () =>
        {
            // Each task heartbeats on its own, a few times per lease, as ConduitWorker does.
            while (!stopHeartbeats.IsCancellationRequested)
            {
                await Task.WhenAll(held.Select(async t =>
                {
                    try { await a.Ask<HeartbeatAck>(new Heartbeat(t.LeaseToken), TimeSpan.FromSeconds(1)); }
                    catch (Exception e) when (Moving(e)) { } // the partition may be moving
                    catch (RejectedException e) when (e.Code == ErrorCode.UnknownLease && completing.ContainsKey(t.TaskId)) { }
                }));
                await Task.Delay(300);
            }
        });

        // Producers (idempotent by key, so a retry after an unanswered enqueue adds nothing) and workers, on a queue
        // with a partition on the node to be killed (keys spread a queue's tasks over its four partitions).
        var q = "";
        for (var n = 0; q == "" && trying.Elapsed < TimeSpan.FromSeconds(90); n++)
        {
            for (var k = 0; k < 8; k++) await Retry(() => a.Enqueue($"work-{n}", $"probe-{k}", key: $"probe-{k}"));
            if ((await c.HostedPartitions()).Any(e => e.StartsWith($"default/work-{n}#", StringComparison.Ordinal))) q = $"work-{n}";
        }
        Assert.True(q != "", "no work queue has a partition on the node to be killed");
        var acked = new ConcurrentDictionary<string, string>();
        var deliveries = new ConcurrentQueue<Delivery>();
        using var stop = new CancellationTokenSource();
        var producers = Enumerable.Range(0, 3).Select(p => Task.Run(async () =>
        {
            for (var i = p; i < 300; i += 3)
            {
                var payload = $"t{i}";
                acked[payload] = (await Retry(() => a.Enqueue(q, payload, key: payload))).TaskId;
            }
        })).ToArray();
        var workers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                LeasedTask[] tasks;
                try { tasks = await a.Poll(q, max: 10, waitMs: 300); }
                catch (Exception e) when (Moving(e)) { continue; }
                foreach (var t in tasks)
                {
                    var d = new Delivery(Text(t), t, clock.ElapsedMilliseconds);
                    deliveries.Enqueue(d);
                    try
                    {
                        await a.Ask<Completed>(new Complete(t.LeaseToken), TimeSpan.FromSeconds(3));
                        d.CompletedAtMs = clock.ElapsedMilliseconds;
                        d.Completed = true;
                    }
                    catch (Exception e) when (Moving(e) || e is RejectedException { Code: ErrorCode.LeaseExpired or ErrorCode.UnknownLease })
                    {
                        d.CompleteRefused = e is RejectedException r ? r.Code.ToString() : e.GetType().Name; // lost with the node, or expired: it comes back
                    }
                }
            }
        })).ToArray();

        await Eventually.Holds(() => { Assert.True(acked.Count >= 100); return Task.CompletedTask; }, timeoutMs: 60_000);
        // What the killed node held, and what was in flight (delivered, completion not yet acknowledged) at the kill.
        var onKilled = (await c.HostedPartitions()).Where(e => e.StartsWith($"default/{q}#", StringComparison.Ordinal)).ToHashSet();
        Assert.NotEmpty(onKilled);
        var killedAtMs = clock.ElapsedMilliseconds;
        await c.KillAsync(); // no leave: the others must notice, down it and move its partitions
        var goneAtMs = clock.ElapsedMilliseconds;
        // Taken once the node is gone (it handed out tasks until then): nothing from its partitions can come before they move.
        var inFlightAtKill = deliveries.Where(d => !d.Completed).Select(d => d.Payload).ToHashSet();
        await Task.WhenAll(producers);
        await Eventually.Holds(async () =>
        {
            var completed = deliveries.Where(d => d.Completed).Select(d => d.Payload).ToHashSet();
            // A completion whose reply was lost with the node still counts: the task's status is the authority.
            var missing = new List<(string Payload, string Id, TaskInfo Info)>();
            foreach (var (payload, id) in acked.Where(kv => !completed.Contains(kv.Key)))
            {
                var info = await a.Ask<TaskInfo>(new GetTask(id));
                if (info.Status != TaskStatus.Completed) missing.Add((payload, id, info));
            }
            if (missing.Count == 0) return;
            var detail = missing.Take(5).Select(m =>
                $"{m.Payload} {m.Id} {m.Info.Status} attempt {m.Info.Attempt} delivered {deliveries.Count(d => d.Payload == m.Payload)}x");
            Assert.Fail($"{missing.Count} acknowledged tasks not completed yet: {string.Join("; ", detail)}; stats {await a.Ask<QueueStats>(new GetQueueStats(q))}");
        }, timeoutMs: 60_000, intervalMs: 200);
        stop.Cancel();
        await Task.WhenAll(workers);

        // At-least-once, and a duplicate only ever follows a delivery that was not completed, of a task of a partition the
        // killed node held: in flight there at the kill, or delivered by the partition's new owner while it was still
        // settling (its completion refused as Unavailable or unanswered, as a moving partition may).
        // Enqueues are idempotent by key: one task per payload, the one its producer was told about, however often it was retried.
        Assert.All(deliveries, d => Assert.True(!acked.TryGetValue(d.Payload, out var id) || id == d.Task.TaskId, // the probes are not in it
            $"{d.Payload} was acknowledged as {acked.GetValueOrDefault(d.Payload)} but delivered as {d.Task.TaskId}: enqueued twice"));
        var duplicates = deliveries.GroupBy(d => d.Payload).Where(g => g.Count() > 1).ToList();
        foreach (var group in duplicates)
        {
            // Every delivery of the task, for the message: when (ms since the kill began), attempt, owner epoch, completion.
            var history = string.Join("; ", group.Select(d =>
                $"{d.Task.TaskId} at {d.DeliveredAtMs - killedAtMs} ms attempt {d.Task.Attempt} epoch {(LeaseToken.TryParse(d.Task.LeaseToken, out var lt) ? lt.Epoch : -1)} " +
                (d.Completed ? $"completed at {d.CompletedAtMs - killedAtMs} ms" : $"not completed ({d.CompleteRefused})")));
            var where = $"partition {TaskIdOf(group.First().Task).Partition.EntityId}, on the killed node: {onKilled.Contains(TaskIdOf(group.First().Task).Partition.EntityId)}; " +
                        $"the kill took {goneAtMs - killedAtMs} ms";
            if (group.SkipLast(1).Any(d => d.Completed))
                Assert.Fail($"{group.Key} was completed, then delivered again: {history}; {where}\n{await JournalOf(cluster, TaskIdOf(group.First().Task))}");
            var first = group.First();
            Assert.True((inFlightAtKill.Contains(group.Key) || first.CompleteRefused is "Unavailable" or nameof(AskTimeoutException))
                        && onKilled.Contains(TaskIdOf(first.Task).Partition.EntityId),
                $"{group.Key} ({first.Task.TaskId}) was delivered {group.Count()}x (attempts {string.Join(",", group.Select(d => d.Task.Attempt))}, " +
                $"first completion refused: {first.CompleteRefused}) " +
                $"but was not in flight on the killed node at the kill: in flight {inFlightAtKill.Contains(group.Key)}, on the killed node's " +
                $"partitions ({string.Join(",", onKilled)}) {onKilled.Contains(TaskIdOf(first.Task).Partition.EntityId)}");
        }

        // A delivery that was superseded (its task was delivered again after the kill) cannot be completed with its old token.
        foreach (var group in deliveries.GroupBy(d => d.Payload).Where(g => g.Count() > 1))
        {
            var stale = await a.Ask<object>(new Complete(group.First().Task.LeaseToken));
            Assert.True(stale is Rejected { Code: ErrorCode.LeaseExpired or ErrorCode.UnknownLease }, $"{group.Key}: {stale}");
        }

        // Nobody can forge a lease on the new owner: the key, nonce and epoch of each delivery came back from the journal.
        Assert.True(LeaseToken.TryParse(held[0].LeaseToken, out var real));
        foreach (var forged in new[] { real with { Nonce = real.Nonce + 1 }, real with { Epoch = real.Epoch + 1 }, real with { Attempt = real.Attempt + 1 } })
        {
            await Eventually.Holds(async () =>
                Assert.Equal(ErrorCode.UnknownLease, Assert.IsType<Rejected>(await a.Ask<object>(new Heartbeat(forged.ToString()), TimeSpan.FromSeconds(3))).Code),
                timeoutMs: 30_000, intervalMs: 500);
        }

        // The heartbeating worker still owns its tasks on the new owner and finishes them; none was redelivered.
        foreach (var t in held)
        {
            completing[t.TaskId] = true;
            await Eventually.Holds(() => a.Ask<Completed>(new Complete(t.LeaseToken), TimeSpan.FromSeconds(3)), timeoutMs: 30_000, intervalMs: 500);
        }
        stopHeartbeats.Cancel();
        await heartbeats;
        foreach (var t in held) Assert.Equal(TaskStatus.Completed, (await a.Ask<TaskInfo>(new GetTask(t.TaskId))).Status);
        Assert.Empty(await a.Poll(longQueue, max: 10, waitMs: 500));
    }

    [Fact(DisplayName = "a task-service node leaves gracefully: its partitions move and no task is delivered twice")]
    public async Task GracefulLeave()
    {
        await using var cluster = await ThreeNodes.StartAsync(pg.Server);
        var (a, c) = (cluster.Frontend, cluster.Leaving);
        const string q = "leave";
        for (var i = 0; i < 40; i++) await a.Enqueue(q, $"t{i}");
        var running = new List<LeasedTask>();
        for (var i = 0; i < 50 && running.Count < 20; i++) running.AddRange(await a.Poll(q, max: 20 - running.Count, waitMs: 500));
        Assert.Equal(20, running.Count);

        await c.DisposeAsync(); // leave: shards hand off after their writers flush
        await AllUp(2, a, cluster.Staying);

        foreach (var t in running)
            await Eventually.Holds(() => a.Ask<Completed>(new Complete(t.LeaseToken), TimeSpan.FromSeconds(3)), timeoutMs: 30_000, intervalMs: 200);
        var rest = await DrainAll(a, [q], 20, timeoutMs: 30_000);
        var all = running.Concat(rest).ToList();
        Assert.Equal(40, all.Count);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"t{i}").Order(), all.Select(Text).Order());
        Assert.All(all, t => Assert.Equal(1, t.Attempt));
    }

    /// <summary>A frontend node and two task-service nodes on one new database; the second one is the one that goes away.</summary>
    private sealed record ThreeNodes(TestNode Frontend, TestNode Staying, TestNode Leaving, StorageOptions Storage) : IAsyncDisposable
    {
        public static async Task<ThreeNodes> StartAsync(PostgresServer server)
        {
            var storage = await TestStores.NewPostgres(server);
            var a = await TestNode.StartClusterNodeAsync(storage, ClusterSpecSupport.Frontend, seed: null, Options);
            var b = await TestNode.StartClusterNodeAsync(storage, TaskService, a.Address, Options);
            var c = await TestNode.StartClusterNodeAsync(storage, TaskService, a.Address, Options);
            await AllUp(3, a, b, c);
            return new ThreeNodes(a, b, c, storage);
        }

        public async ValueTask DisposeAsync()
        {
            await Leaving.DisposeAsync();
            await Staying.DisposeAsync();
            await Frontend.DisposeAsync();
        }
    }

    /// <summary>
    /// For a failure message: the journal of <paramref name="task"/>'s partition as stored, each event with its writer
    /// and what it says about that task (and any owner epoch it starts), and the snapshots.
    /// </summary>
    private static async Task<string> JournalOf(ThreeNodes cluster, TaskId task)
    {
        var persistenceId = "partition-" + task.Partition.EntityId;
        var serialization = cluster.Frontend.System.Serialization;
        var lines = new List<string> { $"journal of {persistenceId} (task seq {task.Seq}, counter {task.Counter}); snapshots at " +
            string.Join(",", await JournalInspector.SnapshotSeqNrs(cluster.Storage, persistenceId)) };
        var rows = await JournalInspector.Rows(cluster.Storage, persistenceId);
        var enqueuedIn = new Dictionary<long, List<long>>(); // counter -> events that enqueue it
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (i > 0 && row.SequenceNr != rows[i - 1].SequenceNr + 1) lines.Add($"  gap: {rows[i - 1].SequenceNr} then {row.SequenceNr}");
            var batch = serialization.Deserialize(row.Message, row.SerializerId, row.Manifest) as Conduit.Server.Persistence.PartitionBatch;
            foreach (var e in batch?.Entries ?? [])
                if (e is { Kind: Conduit.Server.Persistence.EntryKind.Enqueued, Task: { } t })
                    (enqueuedIn.TryGetValue(t.Counter, out var l) ? l : enqueuedIn[t.Counter] = []).Add(row.SequenceNr);
            var about = batch?.Entries.Where(e => e.Seq == task.Seq || e.Task?.Seq == task.Seq || e.Kind == Conduit.Server.Persistence.EntryKind.OwnerEpochStarted)
                .Select(e => e.Kind == Conduit.Server.Persistence.EntryKind.OwnerEpochStarted ? $"epoch {e.AtMs}" : $"{e.Kind} attempt {e.Attempt}").ToArray() ?? ["?"];
            if (about.Length > 0 || i == 0 || i == rows.Count - 1)
                lines.Add($"  {row.SequenceNr}{(row.Deleted ? " (deleted)" : "")} by {row.WriterUuid} at {row.Timestamp}: {batch?.Entries.Length} entries: {string.Join(", ", about)}");
        }
        foreach (var (counter, events) in enqueuedIn.Where(kv => kv.Value.Count > 1).Take(10))
            lines.Add($"  counter {counter} enqueued in events {string.Join(",", events)}");
        return string.Join("\n", lines);
    }

    /// <summary>What a request may meet while a partition moves: no answer in time, or Unavailable.</summary>
    private static bool Moving(Exception e) => e is AskTimeoutException or RejectedException { Code: ErrorCode.Unavailable };

    private static TaskId TaskIdOf(LeasedTask t) => TaskId.TryParse(t.TaskId, out var id) ? id : throw new InvalidOperationException(t.TaskId);

    private static async Task<T> Retry<T>(Func<Task<T>> call)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try { return await call(); }
            catch (Exception e) when (e is AskTimeoutException or RejectedException { Code: ErrorCode.Unavailable } && watch.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(100);
            }
        }
    }
}
