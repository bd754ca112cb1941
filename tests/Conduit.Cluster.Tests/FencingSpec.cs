using Conduit.Protocol;
using Conduit.Server.Frontend;
using Conduit.Server.Hosting;
using Conduit.Server.Matching;
using Conduit.Testing;
using Xunit;
using static Conduit.Cluster.Tests.ClusterSpecSupport;

namespace Conduit.Cluster.Tests;

[Collection(PostgresFixture.CollectionName)]
public sealed class FencingSpec(PostgresFixture pg)
{
    [Fact(DisplayName = "two owners of one partition (a split brain): the stale owner's write is refused, and nothing acknowledged is lost")]
    public async Task StaleOwnerIsFenced()
    {
        var storage = await TestStores.NewPostgres(pg.Server);
        // Two separate one-node clusters on one database: each believes it owns partition q#0.
        await using var first = await StartOwner(storage);
        await using var second = await StartOwner(storage);
        const string q = "fenced";

        var a = await first.Enqueue(q, "from-first");     // first owner, epoch 1
        var b = await second.Enqueue(q, "from-second");   // second owner recovers (sees a), epoch 2
        Assert.Equal(2L, (await second.Ask<QueueStats>(new GetQueueStats(q))).Ready);

        // The first owner's next write collides with the second's epoch event: refused, not acknowledged.
        Assert.Equal(ErrorCode.Unavailable, await first.Refusal(new Enqueue(q, new TaskSpec([1]))));

        // Everything acknowledged is there for the owner that won.
        var tasks = await second.Poll(q, max: 10);
        Assert.Equal(["from-first", "from-second"], tasks.Select(Text).Order());
        Assert.Equal(new[] { a.TaskId, b.TaskId }.Order(), tasks.Select(t => t.TaskId).Order());
    }

    [Fact(DisplayName = "two owners of a partition that has never written: the first event fences (it carries the first epoch), the other owner's first write is refused, not acknowledged, and it recovers what was written")]
    public async Task FirstWriteFencesANewPartition()
    {
        var storage = await TestStores.NewPostgres(pg.Server);
        var first = await StartOwner(storage);
        await using var second = await StartOwner(storage);
        const string q = "fenced-new";

        await using (first)
        {
            // Both owners start the partition, and have recovered it, before either writes: the partition itself answers
            // queue stats, after its recovery (an empty poll could be the router's own answer), and writes nothing.
            Assert.Equal(0L, (await first.Ask<QueueStats>(new GetQueueStats(q))).Ready);
            Assert.Equal(0L, (await second.Ask<QueueStats>(new GetQueueStats(q))).Ready);
            await first.Enqueue(q, "from-first"); // event 1, led by epoch 1

            // The second owner's first write is event 1 too: refused, and not acknowledged.
            Assert.Equal(ErrorCode.Unavailable, await second.Refusal(new Enqueue(q, new TaskSpec([1]))));
            // After its back-off it recovers the first owner's event and fences it with epoch 2.
            Enqueued? b = null;
            await Eventually.Holds(async () => Assert.NotNull(b ??= await Try(() => second.Enqueue(q, "from-second"))), timeoutMs: 30_000, intervalMs: 200);
            // The first owner, now stale, leaves without writing (it is asked for nothing more: a refused write would
            // make it recover and fence the second in turn, as in StaleOwnerDeliversButCannotComplete).
        }

        var tasks = await second.Poll(q, max: 10);
        Assert.Equal(["from-first", "from-second"], tasks.Select(Text).Order());
        // One lease key across the epochs: the second owner's tokens name epoch 2 and are accepted.
        Assert.All(tasks, t => Assert.Equal(2L, LeaseToken.TryParse(t.LeaseToken, out var token) ? token.Epoch : -1));
        foreach (var t in tasks) await second.Ask<Completed>(new Complete(t.LeaseToken));
    }

    [Fact(DisplayName = "two owners of one partition: the stale owner may hand out a task it holds in memory again, but cannot complete it; the owner that won delivers and completes every task")]
    public async Task StaleOwnerDeliversButCannotComplete()
    {
        var storage = await TestStores.NewPostgres(pg.Server);
        await using var first = await StartOwner(storage);
        await using var second = await StartOwner(storage);
        const string q = "fenced-delivery";

        var a = await first.Enqueue(q, "from-first");     // first owner, epoch 1: a is ready in its memory
        var b = await second.Enqueue(q, "from-second");   // second owner recovers a and b, epoch 2

        // The stale owner still hands out what it holds in memory (a dispatch is not a write)...
        var stale = Assert.Single(await first.Poll(q, max: 10, waitMs: 1_000));
        Assert.Equal(a.TaskId, stale.TaskId);
        // ...but cannot make its completion durable: its write collides with the newer owner's events.
        var refused = await first.Ask<object>(new Complete(stale.LeaseToken));
        Assert.True(refused is Rejected { Code: ErrorCode.Unavailable or ErrorCode.LeaseExpired or ErrorCode.UnknownLease }, $"stale complete: {refused}");

        // The first owner recovers after its back-off and fences the second once; the second then recovers too, and
        // from then on (the first gets no more requests) serves both tasks: a is delivered a second time, and completed.
        var delivered = new List<LeasedTask>();
        await Eventually.Holds(async () =>
        {
            foreach (var t in await Try(() => second.Poll(q, max: 10, waitMs: 300)) ?? [])
            {
                delivered.Add(t);
                await Try(() => second.Ask<Completed>(new Complete(t.LeaseToken)));
            }
            foreach (var id in new[] { a.TaskId, b.TaskId })
                Assert.Equal(TaskStatus.Completed, (await Try(() => second.Ask<TaskInfo>(new GetTask(id))))?.Status);
        }, timeoutMs: 60_000, intervalMs: 200);
        Assert.Contains(delivered, t => t.TaskId == a.TaskId);
        Assert.Contains(delivered, t => t.TaskId == b.TaskId);
        // The stale delivery's token stays refused on the owner that won.
        Assert.True(await second.Ask<object>(new Complete(stale.LeaseToken)) is Rejected { Code: ErrorCode.LeaseExpired or ErrorCode.UnknownLease });
    }

    [Fact(DisplayName = "two clusters on one database keep cluster sharding's own state apart: either starts a new partition at once, whichever started one last")]
    public async Task EachClusterStartsNewPartitionsAtOnce()
    {
        // The premise: the second queue's partition is in another shard, which each coordinator must allocate and remember.
        var options = new ConduitServerOptions();
        var extractor = new PartitionMessageExtractor(options.Topology, options.MaxShards);
        Assert.NotEqual(extractor.ShardId(new PartitionId("default", "one", 0).EntityId), extractor.ShardId(new PartitionId("default", "two", 0).EntityId));

        var storage = await TestStores.NewPostgres(pg.Server);
        await using var first = await StartOwner(storage);
        await first.Enqueue("one", "a");
        // The second cluster starts after the first remembered its shard, and remembers the same shard after it.
        await using var second = await StartOwner(storage);
        await second.Enqueue("one", "b");

        // Sharing one sharding journal, the first coordinator's next write would take the sequence number the second one
        // just used: refused, the allocation dropped, and the request unanswered for updating-state-timeout (20 s).
        first.AskTimeout = second.AskTimeout = TimeSpan.FromSeconds(10);
        await first.Enqueue("two", "c");
        await second.Enqueue("two", "d");
    }

    /// <summary>
    /// One of the two clusters: partitions in the shared <paramref name="storage"/>, cluster sharding's own state in a
    /// database of its own, as two real clusters would have it. In one database the two coordinators' writes collide
    /// (see <see cref="TestNode.StartAsync(NodeSettings, StorageOptions?)"/>),
    /// and a node's first request went unanswered for 20 s.
    /// </summary>
    private async Task<TestNode> StartOwner(StorageOptions storage) =>
        await TestNode.StartAsync(storage, shardingState: await TestStores.NewPostgres(pg.Server));

    /// <summary>A request to a partition that is recovering after being fenced: Unavailable (or no answer yet) means try again.</summary>
    private static async Task<T?> Try<T>(Func<Task<T>> call) where T : class
    {
        try { return await call(); }
        catch (RejectedException e) when (e.Code is ErrorCode.Unavailable or ErrorCode.LeaseExpired or ErrorCode.UnknownLease) { return null; }
        catch (Akka.Actor.AskTimeoutException) { return null; }
    }
}
