using Conduit.Protocol;
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
        await using var first = await TestNode.StartAsync(storage);
        await using var second = await TestNode.StartAsync(storage);
        const string q = "fenced";

        var a = await first.Enqueue(q, "from-first");           // first owner, epoch 1
        var b = await second.Enqueue(q, "from-second");         // second owner recovers (sees a), epoch 2
        Assert.Equal(2L, (await second.Ask<QueueStats>(new GetQueueStats(q))).Ready);

        // The first owner's next write collides with the second's epoch event: refused, not acknowledged.
        Assert.Equal(ErrorCode.Unavailable, await first.Refusal(new Enqueue(q, new TaskSpec([1]))));

        // Everything acknowledged is there for the owner that won.
        var tasks = await second.Poll(q, max: 10);
        Assert.Equal(["from-first", "from-second"], tasks.Select(Text).Order());
        Assert.Equal(new[] { a.TaskId, b.TaskId }.Order(), tasks.Select(t => t.TaskId).Order());
    }
}
