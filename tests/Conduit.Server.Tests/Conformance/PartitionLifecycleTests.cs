using Akka.Actor;
using Conduit.Protocol;
using Conduit.Server.Matching;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Conformance;

/// <summary>When partitions run without being asked: remembered after a crash, passivated when idle.</summary>
public sealed class PartitionLifecycleTests
{
    [Fact(DisplayName = "after a crash a partition holding a delayed task restarts by itself, so the task becomes ready on time")]
    public async Task RememberedAfterCrash()
    {
        var storage = TestStores.NewSqlite();
        var node = await TestNode.StartAsync(storage);
        var id = (await node.Enqueue("remembered", "later", delayMs: 1_500)).TaskId;
        await node.KillAsync();

        await using var again = await TestNode.StartAsync(storage);
        // Nobody sends anything: remember-entities brings the partition back, and its timer promotes the task.
        await Eventually.Holds(async () => Assert.Contains("default/remembered#0", await again.HostedPartitions()), timeoutMs: 20_000);
        await Eventually.Holds(async () => Assert.Equal(1, (await again.Ask<QueueStats>(new GetQueueStats("remembered"))).Ready), timeoutMs: 20_000);
        Assert.Equal(id, Assert.Single(await again.Poll("remembered")).TaskId);
    }

    [Fact(DisplayName = "an idle, empty partition passivates, and the next request brings it back")]
    public async Task IdlePassivation()
    {
        await using var node = await TestNode.StartAsync(TestStores.NewSqlite(), TestNode.FastPartitionOptions with { PassivateIdleAfterMs = 300 });
        await node.Enqueue("idle", "one");
        var task = Assert.Single(await node.Poll("idle"));
        await node.Ask<Completed>(new Complete(task.LeaseToken));
        await Eventually.Holds(async () => Assert.DoesNotContain("default/idle#0", await node.HostedPartitions()), timeoutMs: 20_000);
        Assert.Equal(TaskStatus.Completed, (await node.Ask<TaskInfo>(new GetTask(task.TaskId))).Status);
        Assert.Contains("default/idle#0", await node.HostedPartitions());
    }

    [Fact(DisplayName = "a writer that throws is stopped and replaced, not restarted: a partition that had not written yet keeps one lease key, so its tokens outlive the next start")]
    public async Task ThrowingWriterIsReplaced()
    {
        var storage = TestStores.NewSqlite();
        var node = await TestNode.StartAsync(storage);
        Assert.Equal(0L, (await node.Ask<QueueStats>(new GetQueueStats("thrown"))).Ready); // recovered; nothing written

        // The writer throws on an append it cannot read (one awaited, so it is written at once).
        var partition = await node.System.ActorSelection("/system/sharding/partitions/*/default%2Fthrown%230").ResolveOne(TimeSpan.FromSeconds(10));
        var writer = await node.System.ActorSelection(partition.Path + "/writer-*").ResolveOne(TimeSpan.FromSeconds(10));
        var stopped = writer.WatchAsync();
        writer.Tell(new TaskWriter.Append(null!, partition, "never"));
        Assert.True(await stopped.WaitAsync(TimeSpan.FromSeconds(10)));

        // The partition recovers with a new writer and serves again.
        Enqueued? enqueued = null;
        await Eventually.Holds(async () =>
        {
            try { enqueued ??= await node.Enqueue("thrown", "after"); }
            catch (RejectedException e) when (e.Code == ErrorCode.Unavailable) { }
            Assert.NotNull(enqueued);
        }, timeoutMs: 10_000);
        var replaced = await node.System.ActorSelection(partition.Path + "/writer-*").ResolveOne(TimeSpan.FromSeconds(10));
        Assert.NotEqual(writer.Path, replaced.Path);
        var task = Assert.Single(await node.Poll("thrown"));
        Assert.Equal(enqueued!.TaskId, task.TaskId);

        // The next start recovers the key the partition's first event holds: the one the token was signed with.
        await node.DisposeAsync(); // a hand-off writes the delivery down
        await using var again = await TestNode.StartAsync(storage);
        await again.Ask<Completed>(new Complete(task.LeaseToken));
    }

    [Fact(DisplayName = "a node's partitions and their writers run on the compact mailbox, and a partition holds no burst's buffer once quiet")]
    public async Task CompactMailboxes()
    {
        await using var node = await TestNode.StartAsync(TestStores.NewSqlite());
        // A burst: 500 enqueues sent at once pile up in the partition's and the writer's mailboxes.
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => node.Enqueue("burst", "t" + i)));
        Assert.Equal(500, (await node.Ask<QueueStats>(new GetQueueStats("burst"))).Ready);

        var partition = await node.System.ActorSelection("/system/sharding/partitions/*/default%2Fburst%230").ResolveOne(TimeSpan.FromSeconds(10));
        var writer = await node.System.ActorSelection(partition.Path + "/writer-*").ResolveOne(TimeSpan.FromSeconds(10));
        static CompactMessageQueue QueueOf(IActorRef actor) =>
            Assert.IsType<CompactMessageQueue>(((ActorCell)((ActorRefWithCell)actor).Underlying).Mailbox!.MessageQueue);
        QueueOf(writer);
        // Each request is a short run through the quiet partition's mailbox, after which the burst's buffer is gone.
        await Eventually.Holds(async () =>
        {
            await node.Ask<QueueStats>(new GetQueueStats("burst"));
            Assert.InRange(QueueOf(partition).Capacity, 0, CompactMessageQueue.KeptCapacity);
        }, timeoutMs: 10_000);
    }
}
