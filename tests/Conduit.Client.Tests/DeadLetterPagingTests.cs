using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>Dead letters of a queue with several partitions, paged through the client with the cursor.</summary>
public sealed class DeadLetterPagingTests
{
    [Fact(DisplayName = "dead letters of every partition page in order with the cursor: each once, none lost, More until the last page")]
    public async Task PagesOverPartitions()
    {
        const string q = "dlq-pages";
        await using var node = await TestNode.StartAsync(TestStores.NewSqlite(), queuePartitions: new Dictionary<string, int> { [q] = 3 });
        await using var client = ConduitClient.Connect(node.Server);
        // Single enqueues spread by load; keep going until every partition holds some.
        var ids = new List<string>();
        for (var i = 0; i < 300 && (ids.Count < 30 || ids.Select(Partition).Distinct().Count() < 3); i++)
            ids.Add((await client.EnqueueAsync(q, $"t{i}")).TaskId);
        Assert.Equal(3, ids.Select(Partition).Distinct().Count());
        var failed = 0;
        while (failed < ids.Count)
            foreach (var task in await client.PollAsync(q, maxTasks: 50, wait: TimeSpan.FromSeconds(2)))
            {
                await client.FailAsync(task.LeaseToken, $"reason {task.Id}", retryable: false);
                failed++;
            }

        var seen = new List<DeadLetter>();
        DeadLetter? after = null;
        for (var page = 0; page < 100; page++)
        {
            var letters = await client.ListDeadLettersPageAsync(q, limit: 7, after: after);
            Assert.InRange(letters.Items.Length, 0, 7);
            seen.AddRange(letters.Items);
            if (!letters.More) break;
            after = letters.Items[^1];
        }
        Assert.Equal(ids.Order(StringComparer.Ordinal), seen.Select(d => d.TaskId).Order(StringComparer.Ordinal));
        Assert.Equal(seen.Order(DeadLetter.Order).Select(d => d.TaskId), seen.Select(d => d.TaskId));
    }

    private static int Partition(string taskId) => Assert.IsType<bool>(TaskId.TryParse(taskId, out var id)) && id.Partition.Index >= 0 ? id.Partition.Index : -1;
}
