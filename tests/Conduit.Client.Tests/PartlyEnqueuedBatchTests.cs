using System.Text;
using Conduit.Server.Frontend;
using Conduit.Server.Hosting;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>
/// A keyed batch over several partitions, one of which refuses: the caller learns task by task what was enqueued,
/// never a refusal that hides committed tasks.
/// </summary>
public sealed class PartlyEnqueuedBatchTests
{
    [Fact(DisplayName = "a keyed batch whose keys span two partitions, one refusing, says which tasks are durable; retrying with the same keys completes it without duplicates")]
    public async Task PartlyEnqueued()
    {
        const string q = "mp";
        // One live partition at most on the node: the partition the first key picks is started by enqueueing to it; the
        // other partition of the queue then cannot start and refuses its part with QuotaExceeded.
        await using var node = await TestNode.StartAsync(new NodeSettings
        {
            Port = 0,
            ClusterPort = 0,
            Storage = TestStores.NewSqlite(),
            Server = new ConduitServerOptions
            {
                Partition = TestNode.FastPartitionOptions,
                QueuePartitions = new Dictionary<string, int> { [q] = 2 },
                MaxLivePartitionsPerNode = 1,
            },
        });
        var keys = Enumerable.Range(0, 40).Select(i => $"key-{i}").ToArray();
        var live = KeyPartition(keys[0]);
        var onLive = keys.Where(k => KeyPartition(k) == live).Take(3).ToArray();
        var onOther = keys.Where(k => KeyPartition(k) != live).Take(2).ToArray();
        Assert.Equal((3, 2), (onLive.Length, onOther.Length));
        await using var client = ConduitClient.Connect(node.Server);
        await client.EnqueueAsync(q, "seed", new EnqueueOptions { IdempotencyKey = onLive[0] });

        string[] order = [onOther[0], onLive[1], onOther[1], onLive[2]];
        var batch = order.Select(k => new TaskSpec(Encoding.UTF8.GetBytes(k), IdempotencyKey: k)).ToArray();
        var partly = await Assert.ThrowsAsync<BatchPartlyEnqueuedException>(() => client.EnqueueBatchAsync(q, batch));

        Assert.Equal(ErrorCode.QuotaExceeded, partly.Code);
        Assert.Equal([false, true, false, true], partly.Results.Select(r => r is not null));
        Assert.Equal([true, false, true, false], partly.Refusals.Select(r => r?.Code == ErrorCode.QuotaExceeded));
        foreach (var result in partly.Results.OfType<Enqueued>())
            Assert.Equal(TaskStatus.Ready, (await client.GetTaskAsync(result.TaskId)).Status);

        // The refusal that hid nothing: a batch only of the refusing partition's keys is refused whole and changes nothing.
        var refused = await Assert.ThrowsAsync<QuotaExceededException>(() => client.EnqueueBatchAsync(q, batch.Where((_, i) => i % 2 == 0)));
        Assert.DoesNotContain("enqueued", refused.Message);
    }

    private static uint KeyPartition(string key) => StableHash.Of(key) % 2;
}
