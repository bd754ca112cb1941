using Conduit.Protocol;
using Conduit.Testing;
using Xunit;
using static Conduit.Cluster.Tests.ClusterSpecSupport;

namespace Conduit.Cluster.Tests;

[Collection(PostgresFixture.CollectionName)]
public sealed class RebalanceSpec(PostgresFixture pg)
{
    [Fact(DisplayName = "partitions spread over two task-service nodes and rebalance when a third joins, with no task lost")]
    public async Task SpreadAndRebalance()
    {
        var storage = await TestStores.NewPostgres(pg.Server);
        await using var a = await TestNode.StartClusterNodeAsync(storage, Both, seed: null);
        await using var b = await TestNode.StartClusterNodeAsync(storage, TaskService, a.Address);
        await AllUp(2, a, b);

        var queues = Enumerable.Range(0, 6).Select(i => $"spread-{i}").ToArray();
        var sent = new List<string>();
        foreach (var q in queues)
            for (var i = 0; i < 20; i++)
            {
                await a.Enqueue(q, $"{q}/{i}");
                sent.Add($"{q}/{i}");
            }
        await Eventually.Holds(async () =>
        {
            Assert.NotEmpty(await a.HostedPartitions());
            Assert.NotEmpty(await b.HostedPartitions());
        }, timeoutMs: 30_000);

        await using var c = await TestNode.StartClusterNodeAsync(storage, TaskService, a.Address);
        await AllUp(3, a, b, c);
        await Eventually.Holds(async () => Assert.NotEmpty(await c.HostedPartitions()), timeoutMs: 60_000);

        var delivered = await DrainAll(a, queues, sent.Count);
        Assert.Equal(sent.Order(), delivered.Select(Text).Distinct().Order());
    }

    [Fact(DisplayName = "a poll through a frontend-only node reaches the partition with work, and a task enqueued during a long poll is delivered to it")]
    public async Task FrontendRouting()
    {
        var storage = await TestStores.NewPostgres(pg.Server);
        await using var service = await TestNode.StartClusterNodeAsync(storage, TaskService, seed: null);
        await using var frontend = await TestNode.StartClusterNodeAsync(storage, Frontend, service.Address);
        await AllUp(2, service, frontend);

        const string q = "routed";
        var id = (await frontend.Enqueue(q, "queued")).TaskId;
        var first = Assert.Single(await frontend.Poll(q, waitMs: 10_000));
        Assert.Equal(id, first.TaskId);
        await frontend.Ask<Completed>(new Complete(first.LeaseToken));
        Assert.Contains(await service.HostedPartitions(), e => e.StartsWith("default/routed#", StringComparison.Ordinal));

        var poll = frontend.Poll(q, waitMs: 30_000);
        await Eventually.Holds(async () => Assert.True((await frontend.Ask<QueueStats>(new GetQueueStats(q))).WaitingPollers > 0));
        var during = (await frontend.Enqueue(q, "during")).TaskId;
        Assert.Equal(during, Assert.Single(await poll).TaskId);
    }
}
