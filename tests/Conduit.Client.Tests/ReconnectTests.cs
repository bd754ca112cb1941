using Conduit.Server.Hosting;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>
/// A client outlives its node: after the node is killed and started again on the same port and storage, the same
/// client's requests succeed again (ClusterClient re-establishes the contact; the caller retries, the client does not).
/// </summary>
public abstract class ReconnectTests
{
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromSeconds(3);

    protected abstract Task<StorageOptions> NewStorageAsync();

    [Fact(DisplayName = "after the node restarts on the same port, the same client works again and the tasks are still there")]
    public async Task ReconnectAfterRestart()
    {
        var storage = await NewStorageAsync();
        var node = await TestNode.StartAsync(storage);
        var port = node.Port;
        await using var client = ConduitClient.Connect(node.Server);
        var q = "reconnect";
        var before = (await client.EnqueueAsync(q, "before")).TaskId;
        Assert.True(client.IsConnected);

        await node.KillAsync();
        await Assert.ThrowsAnyAsync<ConduitTimeoutException>(() => client.RequestAsync<QueueStats>(new GetQueueStats(q), ShortTimeout));

        await using var again = await TestNode.StartAsync(storage, port: port);
        // What a caller does: retry a read until the cluster answers, then carry on.
        await Eventually.Holds(async () => Assert.Equal(1, (await client.RequestAsync<QueueStats>(new GetQueueStats(q), ShortTimeout)).Ready),
            timeoutMs: 60_000);
        Assert.True(client.IsConnected);
        var after = (await client.EnqueueAsync(q, "after")).TaskId;
        // One poll may return only the recovered task: a task enqueued behind an old backlog is paged in after it.
        var got = new List<string>();
        await Eventually.Holds(async () =>
        {
            got.AddRange((await client.PollAsync(q, maxTasks: 10, wait: TimeSpan.FromSeconds(1))).Select(t => t.Id));
            Assert.Equal(2, got.Count);
        }, timeoutMs: 30_000);
        Assert.Equal([before, after], got);
    }
}

public sealed class SqliteReconnectTests : ReconnectTests
{
    protected override Task<StorageOptions> NewStorageAsync() => Task.FromResult(TestStores.NewSqlite());
}

[Collection(PostgresFixture.CollectionName)]
public sealed class PostgresReconnectTests(PostgresFixture postgres) : ReconnectTests
{
    protected override Task<StorageOptions> NewStorageAsync() => TestStores.NewPostgres(postgres.Server);

    [Fact(DisplayName = "when PostgreSQL goes away, the client gets UnavailableException instead of an acknowledgement")]
    public async Task StorageDown()
    {
        var server = await PostgresServer.StartAsync();
        await using var node = await TestNode.StartAsync(await TestStores.NewPostgres(server));
        await using var client = ConduitClient.Connect(node.Server);
        await client.EnqueueAsync("down", "before");
        await server.DisposeAsync();
        var e = await Assert.ThrowsAsync<UnavailableException>(() => client.EnqueueAsync("down", "after"));
        Assert.Equal(ErrorCode.Unavailable, e.Code);
    }
}
