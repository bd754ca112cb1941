using Conduit.Protocol;
using Conduit.Server.Hosting;
using Conduit.Server.Http;
using Conduit.Testing;
using Xunit;

namespace Conduit.Dashboard.Tests;

/// <summary>One real node (SQLite, in-process, HTTP on a free loopback port, no API keys) and one Chromium, shared by a test class.</summary>
public sealed class OpenNodeFixture : IAsyncLifetime
{
    public TestNode Node { get; private set; } = null!;
    public Chromium Chromium { get; private set; } = null!;
    public Uri Http => Node.HttpAddress;

    public async Task InitializeAsync()
    {
        Chromium = await Chromium.LaunchAsync();
        Node = await StartNode(keysFile: null);
    }

    public async Task DisposeAsync()
    {
        if (Node is not null) await Node.DisposeAsync();
        if (Chromium is not null) await Chromium.DisposeAsync();
    }

    public static Task<TestNode> StartNode(string? keysFile) =>
        TestNode.StartAsync(new NodeSettings
        {
            Port = 0,
            ClusterPort = 0,
            Storage = TestStores.NewSqlite(),
            KeysFile = keysFile,
            Http = new NodeHttpOptions { Port = 0 },
            Server = new ConduitServerOptions { Partition = TestNode.FastPartitionOptions, PartitionsPerQueue = 1 },
        });
}

/// <summary>Protocol helpers the tests use to set up and check what the pages show.</summary>
public static class NodeActions
{
    /// <summary>Enqueues a task with max attempts 1, takes it and fails it with <paramref name="reason"/>: a dead letter.</summary>
    public static async Task<string> DeadLetter(this TestNode node, string queue, string reason)
    {
        var enqueued = await node.Enqueue(queue, "doomed", priority: TaskSpec.MaxPriority, maxAttempts: 1); // polled before any other task
        var leased = await node.Poll(queue);
        Assert.Equal(enqueued.TaskId, Assert.Single(leased).TaskId);
        var failed = await node.Ask<Failed>(new Fail(leased[0].LeaseToken, reason));
        Assert.Equal(Conduit.Protocol.TaskStatus.DeadLettered, failed.Next);
        return enqueued.TaskId;
    }

    public static Task<QueueStats> Stats(this TestNode node, string queue) => node.Ask<QueueStats>(new GetQueueStats(queue));
}
