using System.Diagnostics;
using Akka.Actor;
using Conduit.Server.Hosting;
using Conduit.Server.Matching;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>
/// Requests a well-behaved client never sends, sent over real remoting to a real node by someone who can reach its
/// port (<see cref="Attacker"/>): each is answered with a typed refusal, and none restarts, starts, writes or stalls anything.
/// </summary>
public sealed class HostileRequestTests
{
    private static readonly byte[] OneByte = [1];

    private static Task<TestNode> StartNode(StorageOptions storage, int maxLivePartitions = ConduitServerOptions.DefaultMaxLivePartitionsPerNode) =>
        TestNode.StartAsync(new NodeSettings
        {
            Port = 0,
            ClusterPort = 0,
            Storage = storage,
            Server = new ConduitServerOptions
            {
                Partition = TestNode.FastPartitionOptions,
                QueuePartitions = new Dictionary<string, int> { ["mp"] = 2 },
                MaxLivePartitionsPerNode = maxLivePartitions,
            },
        });

    [Fact(DisplayName = "task ids with priority bits 10-15 are refused as not found, by the frontend and by the partition itself, and the partition is not restarted")]
    public async Task OutOfRangePriorityIds()
    {
        var storage = TestStores.NewSqlite();
        await using var node = await StartNode(storage);
        await using var attacker = Attacker.Against(node.Port, node.ClusterPort);
        var waitingPoll = attacker.Ask<Polled>(attacker.Frontend, new Poll("q", 1, 60_000, 60_000), TimeSpan.FromSeconds(90));
        await Eventually.Holds(async () => Assert.Equal(1, (await node.Ask<QueueStats>(new GetQueueStats("q"))).WaitingPollers));
        var partitionEvents = await JournalInspector.LiveEvents(storage, QueuePartition.PersistenceIdOf(PartitionId.Of("q", 0)));

        string[] ids = ["default/q#0:26", "default/q#0:31", $"default/q#0:{TaskId.MakeSeq(1_000_000, 12)}", $"default/q#0:{long.MaxValue}"];
        foreach (var id in ids)
        {
            foreach (var request in new IPartitionRequest[] { new GetTask(id), new CancelTask(id) })
            {
                Assert.Equal(ErrorCode.TaskNotFound, await attacker.Refusal(attacker.Frontend, request));
                Assert.Equal(ErrorCode.TaskNotFound, await attacker.Refusal(attacker.ShardRegion, new PartitionEnvelope("default/q#0", request)));
            }
        }

        Assert.False(waitingPoll.IsCompleted, "the poll waiting on q was answered (or failed) during the attack");
        Assert.Equal(1, (await node.Ask<QueueStats>(new GetQueueStats("q"))).WaitingPollers);
        Assert.Equal(partitionEvents, await JournalInspector.LiveEvents(storage, QueuePartition.PersistenceIdOf(PartitionId.Of("q", 0))));
        var enqueued = await node.Enqueue("q", "after the attack");
        var handed = Assert.Single((await waitingPoll).Tasks);
        Assert.Equal((enqueued.TaskId, 1), (handed.TaskId, handed.Attempt));
    }

    [Fact(DisplayName = "ids naming an invalid namespace or a made-up partition index are refused as not found; no entity starts and nothing is written")]
    public async Task MadeUpPartitions()
    {
        var storage = TestStores.NewSqlite();
        await using var node = await StartNode(storage);
        await using var attacker = Attacker.Against(node.Port, node.ClusterPort);
        await node.Enqueue("q", "real");
        await node.Ask<EnqueuedBatch>(new EnqueueBatch("mp", Enumerable.Range(0, 4).Select(i => new TaskSpec(OneByte, IdempotencyKey: $"k{i}")).ToArray()));
        var hosted = (await node.HostedPartitions()).Order().ToArray();
        var rows = await JournalInspector.AllRows(storage);

        // Any valid namespace is a real one (as any valid queue name is): "other/q#0" exists. Invalid names and indexes past the count do not.
        string[] ids = ["Other/q#0:17", "other/q#1:17", "-x/q#0:17", "default/q#7:17", "default/q#1:17", "default/mp#2:17", "default/mp#99:17", "default/Q#0:17", "q#0:17"];
        foreach (var id in ids)
        {
            Assert.Equal(ErrorCode.TaskNotFound, await attacker.Refusal(attacker.Frontend, new GetTask(id)));
            Assert.Equal(ErrorCode.TaskNotFound, await attacker.Refusal(attacker.Frontend, new CancelTask(id)));
        }
        Assert.Equal(ErrorCode.TaskNotFound, await attacker.Refusal(attacker.Frontend, new RequeueDeadLetters("q", ["other/q#0:17"])));
        Assert.Equal(ErrorCode.TaskNotFound, await attacker.Refusal(attacker.Frontend, new RequeueDeadLetters("q", ["default/q#7:17"])));
        Assert.Equal(ErrorCode.TaskNotFound, await attacker.Refusal(attacker.Frontend, new RequeueDeadLetters("mp", ["default/mp#2:17"])));
        Assert.Equal(ErrorCode.TaskNotFound, await attacker.Refusal(attacker.Frontend, new RequeueDeadLetters("other", ["other/other#0:17"])));

        var many = await Task.WhenAll(Enumerable.Range(0, 1_000).Select(i =>
            attacker.Refusal(attacker.Frontend, new GetTask(i % 2 == 0 ? $"default/q#{i + 1}:17" : $"default/mp#{i + 2}:17"), TimeSpan.FromSeconds(60))));
        Assert.All(many, code => Assert.Equal(ErrorCode.TaskNotFound, code));

        // Straight to the shard region: dropped without an answer; the answer to a real request sent after them shows they were handled.
        for (var i = 0; i < 200; i++) attacker.ShardRegion.Tell(new PartitionEnvelope($"default/q#{i + 1}", new GetQueueStats("q")));
        var stats = await attacker.Ask<QueueStats>(attacker.ShardRegion, new PartitionEnvelope("default/q#0", new GetQueueStats("q")));
        Assert.Equal(1, stats.Ready);

        Assert.Equal(hosted, (await node.HostedPartitions()).Order().ToArray());
        Assert.Equal(rows, await JournalInspector.AllRows(storage));
    }

    [Fact(DisplayName = "a poll for forty 256 KiB tasks is answered in parts that fit a frame, every task handed out once and completed")]
    public async Task OversizedPollReply()
    {
        await using var node = await StartNode(TestStores.NewSqlite());
        await using var client = ConduitClient.Connect(node.Server);
        var payloads = Enumerable.Range(0, 40).Select(i => Enumerable.Repeat((byte)i, 256 * 1024).ToArray()).ToArray();
        var ids = (await Task.WhenAll(payloads.Select(p => client.EnqueueAsync("big", p)))).Select(e => e.TaskId).ToHashSet();
        Assert.Equal(40, ids.Count);

        var received = new List<ConduitTask>();
        var polls = 0;
        while (received.Count < 40 && polls < 40)
        {
            polls++;
            var tasks = await client.PollAsync("big", 40, TimeSpan.FromSeconds(2), lease: TimeSpan.FromMinutes(2));
            Assert.True(tasks.Sum(t => (long)t.Payload.Length) <= WireLimits.MaxReplyBytes, $"poll {polls} carried {tasks.Sum(t => t.Payload.Length)} payload bytes");
            received.AddRange(tasks);
        }

        Assert.Equal(ids.Order(), received.Select(t => t.Id).Order());
        Assert.All(received, t => Assert.Equal(1, t.Attempt));
        Assert.All(received, t => Assert.Equal(payloads[t.Payload[0]], t.Payload));
        Assert.True(polls > 1, "forty 256 KiB tasks cannot fit in one reply");
        await Task.WhenAll(received.Select(t => client.CompleteAsync(t.LeaseToken)));
        var stats = await client.GetQueueStatsAsync("big");
        Assert.Equal((0L, 0L, 0L), (stats.Ready, stats.Running, stats.DeadLettered));
    }

    [Fact(DisplayName = "numbers no client sends (delay, run-at and wait of long.MaxValue, a batch of 25,000) are answered at once with InvalidArgument, by the frontend and by the partition, and change nothing")]
    public async Task BadNumbers()
    {
        await using var node = await StartNode(TestStores.NewSqlite());
        await using var attacker = Attacker.Against(node.Port, node.ClusterPort);
        var quickly = TimeSpan.FromSeconds(5);
        var batch = Enumerable.Range(0, 25_000).Select(_ => new TaskSpec(OneByte)).ToArray();
        foreach (var queue in new[] { "q", "mp" })
        {
            IPartitionRequest[] requests =
            [
                new Enqueue(queue, new TaskSpec(OneByte, DelayMs: long.MaxValue)),
                new Enqueue(queue, new TaskSpec(OneByte, RunAtUnixMs: long.MaxValue)),
                new Enqueue(queue, new TaskSpec(OneByte, DelayMs: -1)),
                new EnqueueBatch(queue, [new TaskSpec(OneByte), new TaskSpec(OneByte, DelayMs: long.MaxValue)]),
                new Poll(queue, 1, long.MaxValue),
                new Poll(queue, 1, long.MaxValue, long.MaxValue),
                new Poll(queue, int.MaxValue, 1_000),
                new EnqueueBatch(queue, batch),
            ];
            var partition = PartitionId.Of(queue, queue == "mp" ? 1 : 0).EntityId;
            foreach (var request in requests)
            {
                var watch = Stopwatch.StartNew();
                var code = await attacker.Refusal(attacker.Frontend, request, quickly);
                Assert.True(code == ErrorCode.InvalidArgument, $"{request.GetType().Name} on {queue}: {code} after {watch.ElapsedMilliseconds} ms");
                code = await attacker.Refusal(attacker.ShardRegion, new PartitionEnvelope(partition, request), quickly);
                Assert.True(code == ErrorCode.InvalidArgument, $"{request.GetType().Name} straight to {partition}: {code}");
            }
            var stats = await attacker.Ask<QueueStats>(attacker.Frontend, new GetQueueStats(queue));
            Assert.Equal((0L, 0L, 0L), (stats.Ready, stats.Delayed, stats.Running));
        }
    }

    [Fact(DisplayName = "past its live-partition quota a node refuses new queues with QuotaExceeded, also straight at the shard region, and runs no partition for them")]
    public async Task LivePartitionQuota()
    {
        var storage = TestStores.NewSqlite();
        await using var node = await StartNode(storage, maxLivePartitions: 3);
        await using var client = ConduitClient.Connect(node.Server);
        foreach (var queue in new[] { "q1", "q2", "q3" }) await client.EnqueueAsync(queue, "fits");

        await Assert.ThrowsAsync<QuotaExceededException>(() => client.EnqueueAsync("q4", "one too many"));
        await Assert.ThrowsAsync<QuotaExceededException>(() => client.GetQueueStatsAsync("q4"));
        await using var attacker = Attacker.Against(node.Port, node.ClusterPort);
        for (var i = 5; i < 25; i++)
        {
            var enqueue = new Enqueue($"q{i}", new TaskSpec(OneByte));
            Assert.Equal(ErrorCode.QuotaExceeded, await attacker.Refusal(attacker.ShardRegion, new PartitionEnvelope(PartitionId.Of(enqueue.Queue, 0).EntityId, enqueue)));
        }

        for (var i = 4; i < 25; i++)
        {
            var partition = QueuePartition.PersistenceIdOf(PartitionId.Of($"q{i}", 0));
            Assert.Equal((0L, 0L), (await JournalInspector.LiveEvents(storage, partition), await JournalInspector.Snapshots(storage, partition)));
        }
        await Eventually.Holds(async () => Assert.Equal(["default/q1#0", "default/q2#0", "default/q3#0"], (await node.HostedPartitions()).Order()));
        foreach (var queue in new[] { "q1", "q2", "q3" }) Assert.Equal(1, (await client.GetQueueStatsAsync(queue)).Ready);
    }
}
