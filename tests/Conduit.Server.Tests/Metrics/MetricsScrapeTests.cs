using Conduit.Server.Hosting;
using Conduit.Server.Http;
using Conduit.Server.Metrics;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Metrics;

/// <summary>A real node's <c>/metrics</c> with many queues: the queue labels stay within the configured bound.</summary>
public sealed class MetricsScrapeTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact(DisplayName = "a node with 150 queues and a queue label limit of 20 serves /metrics with at most 21 queue label values per metric, the rest summed under _other")]
    public async Task ScrapeStaysWithinTheLabelLimit()
    {
        await using var node = await TestNode.StartAsync(new NodeSettings
        {
            Port = 0,
            ClusterPort = 0,
            Storage = TestStores.NewSqlite(),
            Server = new ConduitServerOptions { Partition = TestNode.FastPartitionOptions },
            Http = new NodeHttpOptions { Port = 0 },
            Metrics = new MetricsOptions { MaxQueueLabels = 20 },
        });
        const int queues = 150;
        // Queue i gets i % 5 + 1 tasks: 450 in all.
        foreach (var chunk in Enumerable.Range(0, queues).Chunk(25))
            await Task.WhenAll(chunk.SelectMany(i => Enumerable.Range(0, i % 5 + 1).Select(t => node.Enqueue($"many-{i}", $"task {t}"))));
        const double tasks = queues / 5 * (1 + 2 + 3 + 4 + 5);

        await Eventually.Holds(async () =>
        {
            var scrape = await PrometheusText.ScrapeAsync(Http, node.HttpAddress);
            Assert.Equal(tasks, scrape.Sum("conduit_queue_ready"));
            Assert.Equal(tasks, scrape.Sum("conduit_tasks_enqueued_total"));
            foreach (var metric in scrape.Samples.Where(s => s.Label("queue") is not null).GroupBy(s => s.Name))
            {
                var values = metric.Select(s => s.Label("queue")).Distinct().ToList();
                Assert.True(values.Count <= 21, $"{metric.Key} has {values.Count} queue label values");
                Assert.Contains(MetricNames.OtherQueues, values);
            }
            Assert.Equal(20, scrape.Sum("conduit_queue_labelled"));
            Assert.Equal(queues, scrape.Sum("conduit_node_partitions"));
        }, timeoutMs: 20_000, intervalMs: 200);
        Assert.Equal(queues, node.Metrics.QueueFigures().Count);
    }
}
