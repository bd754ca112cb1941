using System.Diagnostics;
using Akka.Actor;
using Conduit.Protocol;
using Conduit.Server.Frontend;
using Conduit.Server.Hosting;
using Conduit.Testing;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace Conduit.Server.Tests.Durability;

/// <summary>
/// What a PostgreSQL outage does to cluster sharding's own state (the remember-entities journals), on a node of its own
/// PostgreSQL server, crashed with <c>pg_ctl stop -m immediate</c> and started again.
/// </summary>
public sealed class StorageOutageTests(ITestOutputHelper output)
{
    /// <summary>docs/ownership-and-failover.md: every partition serves within this of the database's return.</summary>
    private const long RecoveryTargetMs = 5_000;

    [Fact(DisplayName = "a shard that starts while PostgreSQL is down (a rebalance, a new queue) serves within 5 s of the database's return, not after sharding's 20 s load timeout")]
    public async Task ShardStartedDuringOutage()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var storage = TestStores.NewPostgres(postgres);
        await using var node = await TestNode.StartAsync(await storage);
        const string before = "outage-before";
        var fresh = QueueInAnotherShard(before);
        await node.Enqueue(before, "warm-up"); // storage is connected and a first shard is running

        var outage = postgres.RestartImmediateAsync(TimeSpan.FromSeconds(6));
        await Eventually.Holds(async () => await Assert.ThrowsAnyAsync<NpgsqlException>(() => Connect(postgres)), timeoutMs: 5_000, intervalMs: 50);
        // The first request for the fresh queue starts its shard now, while the database is down: the shard's first step
        // is to load its remembered entity ids from the journal, which fails.
        var early = await node.Frontend.Ask<object>(new Enqueue(fresh, new TaskSpec("during"u8.ToArray())), TimeSpan.FromSeconds(5))
            .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : t.Exception!.InnerException!);
        Assert.False(early is Enqueued, "nothing can be acknowledged while the database is down");
        Assert.False(outage.IsCompleted, "the shard started while the database was still down");
        await outage;
        var back = Stopwatch.StartNew();

        long? servedAfter = null;
        Enqueued? acknowledged = null;
        while (back.ElapsedMilliseconds < 40_000)
        {
            var reply = await node.Frontend.Ask<object>(new Enqueue(fresh, new TaskSpec("after"u8.ToArray())), TimeSpan.FromSeconds(1))
                .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null);
            if (reply is Enqueued enqueued) { (servedAfter, acknowledged) = (back.ElapsedMilliseconds, enqueued); break; }
            await Task.Delay(100);
        }
        output.WriteLine($"the shard started during the outage served {servedAfter?.ToString() ?? "never"} ms after PostgreSQL accepted connections again; early answer: {early}");
        Assert.NotNull(acknowledged);
        Assert.True(servedAfter <= RecoveryTargetMs, $"served {servedAfter} ms after the database came back (target {RecoveryTargetMs} ms)");
        Assert.Equal(TaskStatus.Ready, (await node.Ask<TaskInfo>(new GetTask(acknowledged.TaskId))).Status);
    }

    private static async Task Connect(PostgresServer postgres)
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString + ";Pooling=false;Timeout=2");
        await connection.OpenAsync();
    }

    /// <summary>A queue whose partition lives in a different shard from <paramref name="queue"/>'s (shard ids hash the entity id).</summary>
    private static string QueueInAnotherShard(string queue)
    {
        var extractor = new PartitionMessageExtractor(new QueueTopology(1), ConduitServerOptions.DefaultMaxShards);
        string Shard(string q) => extractor.ShardId(PartitionId.Of(q, 0).EntityId);
        return Enumerable.Range(0, 100).Select(i => $"outage-fresh-{i}").First(q => Shard(q) != Shard(queue));
    }
}
