using System.Text;
using Conduit.Protocol;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Conformance;

/// <summary>One node, queues of four partitions: the frontend's routing over partitions (gossip, probes, waiting on all).</summary>
public sealed class PartitionedQueueTests : IAsyncLifetime
{
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(new Conduit.Server.Hosting.NodeSettings
    {
        Port = 0,
        ClusterPort = 0,
        Storage = TestStores.NewSqlite(),
        Server = new Conduit.Server.Hosting.ConduitServerOptions
        {
            Partition = TestNode.FastPartitionOptions, PartitionsPerQueue = 4, QueuePartitions = new Dictionary<string, int> { ["narrow"] = 1 },
        },
    });
    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact(DisplayName = "with four partitions, a task enqueued during a long poll reaches the waiting poller, and the other waits are withdrawn")]
    public async Task LongPollAcrossPartitions()
    {
        const string q = "fan";
        for (var round = 0; round < 3; round++)
        {
            var poll = _node.Poll(q, waitMs: 20_000);
            await Eventually.Holds(async () => Assert.Equal(4, (await _node.Ask<QueueStats>(new GetQueueStats(q))).WaitingPollers));
            var id = (await _node.Enqueue(q, $"r{round}")).TaskId;
            Assert.Equal(id, Assert.Single(await poll).TaskId);
            await Eventually.Holds(async () => Assert.Equal(0, (await _node.Ask<QueueStats>(new GetQueueStats(q))).WaitingPollers));
        }
        var stats = await _node.Ask<QueueStats>(new GetQueueStats(q));
        Assert.Equal((0L, 3L, 4), (stats.Ready, stats.Running, stats.Partitions));
    }

    [Fact(DisplayName = "with four partitions, a backlog spread over them drains completely, each task delivered once")]
    public async Task DrainAcrossPartitions()
    {
        const string q = "spread";
        for (var i = 0; i < 60; i++) await _node.Enqueue(q, $"t{i}");
        var got = new List<LeasedTask>();
        for (var i = 0; i < 100 && got.Count < 60; i++)
        {
            var tasks = await _node.Poll(q, max: 7, waitMs: 1_000);
            got.AddRange(tasks);
            foreach (var t in tasks) await _node.Ask<Completed>(new Complete(t.LeaseToken));
        }
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"t{i}").Order(), got.Select(t => Encoding.UTF8.GetString(t.Payload)).Order());
        Assert.All(got, t => Assert.Equal(1, t.Attempt));
        Assert.True(got.Select(t => t.TaskId[..t.TaskId.IndexOf(':')]).Distinct().Count() > 1, "the backlog was spread over partitions");
        Assert.Empty(await _node.Poll(q, waitMs: 300));
    }

    [Fact(DisplayName = "a queue can have its own partition count")]
    public async Task PerQueuePartitions()
    {
        await _node.Enqueue("narrow", "x");
        await _node.Enqueue("wide", "y");
        Assert.Equal(1, (await _node.Ask<QueueStats>(new GetQueueStats("narrow"))).Partitions);
        Assert.Equal(4, (await _node.Ask<QueueStats>(new GetQueueStats("wide"))).Partitions);
    }

    [Fact(DisplayName = "with four partitions, a keyed batch is split by key, answered in order, and refused whole when one task is bad")]
    public async Task KeyedBatchAcrossPartitions()
    {
        const string q = "keyed";
        var specs = Enumerable.Range(0, 12).Select(i => new TaskSpec(Encoding.UTF8.GetBytes($"k{i}"), IdempotencyKey: $"key-{i}")).ToArray();
        Assert.Equal(ErrorCode.PayloadTooLarge, await _node.Refusal(new EnqueueBatch(q, [.. specs, new TaskSpec(new byte[300_000], IdempotencyKey: "big")])));
        Assert.Equal(0, (await _node.Ask<QueueStats>(new GetQueueStats(q))).Ready);

        var first = await _node.Ask<EnqueuedBatch>(new EnqueueBatch(q, specs));
        Assert.True(first.Results.Select(r => r.TaskId[..r.TaskId.IndexOf(':')]).Distinct().Count() > 1, "the keys spread over partitions");
        var again = await _node.Ask<EnqueuedBatch>(new EnqueueBatch(q, specs));
        Assert.Equal(first.Results.Select(r => r.TaskId), again.Results.Select(r => r.TaskId));
        Assert.All(again.Results, r => Assert.True(r.Duplicate));
        Assert.Equal(12, (await _node.Ask<QueueStats>(new GetQueueStats(q))).Ready);
    }
}
