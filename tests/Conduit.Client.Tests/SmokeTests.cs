using Conduit.Testing;

namespace Conduit.Client.Tests;

public sealed class SmokeTests
{
    [Fact(DisplayName = "a client enqueues, polls and completes through ClusterClient")]
    public async Task EnqueuePollComplete()
    {
        await using var node = await TestNode.StartAsync(TestStores.NewSqlite());
        await using var client = ConduitClient.Connect(node.Server);
        var enqueued = await client.EnqueueAsync("smoke", "hello");
        var task = Assert.Single(await client.PollAsync("smoke", wait: TimeSpan.FromSeconds(5)));
        Assert.Equal((enqueued.TaskId, "hello"), (task.Id, task.PayloadText));
        await client.CompleteAsync(task.LeaseToken);
        Assert.Equal(TaskStatus.Completed, (await client.GetTaskAsync(enqueued.TaskId)).Status);
    }
}
