using System.Collections.Concurrent;
using Conduit.Client;
using Conduit.Testing;
using Xunit;

namespace Conduit.Node.Tests;

/// <summary>The shipped node's <c>/metrics</c> (Prometheus text), scraped as Prometheus would while the node works.</summary>
public sealed class MetricsEndpointTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private const string Ready = "conduit_queue_ready";
    private const string Running = "conduit_queue_running";
    private const string OldestAge = "conduit_queue_oldest_ready_age_seconds";
    private const string Enqueued = "conduit_tasks_enqueued_total";
    private const string Dispatched = "conduit_tasks_dispatched_total";
    private const string Completed = "conduit_tasks_completed_total";

    private static void NeverFalls(double[] values, string what)
    {
        for (var i = 1; i < values.Length; i++)
            Assert.True(values[i - 1] <= values[i], $"{what} fell from {values[i - 1]} to {values[i]} (scrape {i})");
    }

    [Fact(DisplayName = "on PostgreSQL under load, /metrics shows a queue's ready count rise to N, its leased tasks as running, ready back to 0 once drained, and enqueued and completed totals of N")]
    public async Task QueueGaugesAndCountersFollowTheWork()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("conduit");
        var port = NodeProcess.FreePort();
        await using var node = NodeProcess.Start("--postgres", database, "--port", port.ToString(), "--cluster-port", "0");
        var http = await node.HttpAddress();
        await using var client = ConduitClient.Connect($"127.0.0.1:{port}");
        const string queue = "metered";
        (string, string) OfQueue = ("queue", queue);
        const int total = 3_000;

        // Enqueue N tasks from 6 producers at once, scraping all the while.
        var scrapes = new ConcurrentQueue<PrometheusText>();
        using var scraping = new CancellationTokenSource();
        var scraper = Task.Run(async () =>
        {
            while (!scraping.IsCancellationRequested)
            {
                scrapes.Enqueue(await PrometheusText.ScrapeAsync(Http, http));
                await Task.Delay(50, CancellationToken.None);
            }
        });
        await Task.WhenAll(Enumerable.Range(0, 6).Select(p => Task.Run(async () =>
        {
            for (var b = 0; b < total / 6 / 100; b++)
                await client.EnqueueBatchAsync(queue, Enumerable.Range(0, 100).Select(i => BitConverter.GetBytes(p * 100_000 + b * 100 + i)));
        })));
        await Eventually.Holds(async () =>
        {
            var scrape = await PrometheusText.ScrapeAsync(Http, http);
            Assert.Equal(total, scrape.Sum(Ready, OfQueue));
            Assert.Equal(total, scrape.Sum(Enqueued, OfQueue));
            Assert.True(scrape.Sum(OldestAge, OfQueue) > 0, "a backlog has an oldest task");
        }, timeoutMs: 20_000, intervalMs: 100);
        // On the way up (nothing polled yet) ready never went down, and never past what was enqueued.
        var risingReady = scrapes.Select(s => s.Sum(Ready, OfQueue)).ToArray();
        Assert.NotEmpty(risingReady);
        NeverFalls(risingReady, Ready);
        Assert.All(risingReady, r => Assert.InRange(r, 0, total));

        // Lease 50: they are running, the rest ready.
        var leased = await client.PollAsync(queue, 50, TimeSpan.FromSeconds(10));
        Assert.Equal(50, leased.Count);
        await Eventually.Holds(async () =>
        {
            var scrape = await PrometheusText.ScrapeAsync(Http, http);
            Assert.Equal((50.0, total - 50.0), (scrape.Sum(Running, OfQueue), scrape.Sum(Ready, OfQueue)));
        }, timeoutMs: 10_000, intervalMs: 100);
        await client.CompleteAsync(leased[0].LeaseToken);
        await Task.WhenAll(leased.Skip(1).Select(t => client.CompleteAsync(t.LeaseToken)));

        // Drain with 6 workers.
        var completed = leased.Count;
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            while (Volatile.Read(ref completed) < total)
            {
                var tasks = await client.PollAsync(queue, 50, TimeSpan.FromSeconds(1));
                foreach (var t in tasks) await client.CompleteAsync(t.LeaseToken);
                Interlocked.Add(ref completed, tasks.Count);
            }
        })));
        await scraping.CancelAsync();
        await scraper;
        // Scraped all along, under load: the counters only ever grew.
        foreach (var counter in new[] { Enqueued, Dispatched, Completed })
        {
            var seen = scrapes.Select(s => s.Sum(counter, OfQueue)).ToArray();
            NeverFalls(seen, counter);
        }
        Assert.True(scrapes.Count >= 5, $"only {scrapes.Count} scrapes under load");

        await Eventually.Holds(async () =>
        {
            var scrape = await PrometheusText.ScrapeAsync(Http, http);
            Assert.Equal((0.0, 0.0, 0.0), (scrape.Sum(Ready, OfQueue), scrape.Sum(Running, OfQueue), scrape.Sum(OldestAge, OfQueue)));
            Assert.Equal((total, total), (scrape.Sum(Enqueued, OfQueue), scrape.Sum(Completed, OfQueue)));
        }, timeoutMs: 10_000, intervalMs: 100);
        var last = await PrometheusText.ScrapeAsync(Http, http);
        Assert.Equal(total, last.Sum(Dispatched, OfQueue));
        Assert.Equal(0, last.Sum("conduit_tasks_failed_total", OfQueue));
        // Per-node histograms: every task's first delivery and its run, every write's size.
        Assert.Equal(total, last.Sum("conduit_task_schedule_to_start_seconds_count"));
        Assert.Equal(total, last.Sum("conduit_task_run_duration_seconds_count"));
        Assert.True(last.Sum("conduit_journal_write_batch_size_sum") >= 2 * total, "enqueues and completions were written");
        Assert.True(last.Sum("conduit_journal_write_batch_size_count") < total, "writes carry batches, not one task each");
        Assert.Equal(1, last.Sum("conduit_node_partitions"));
        Assert.Equal(1, last.Sum("conduit_cluster_members", ("status", "up")));
        // Each port against its connection limits: the test's client is connected, nothing was refused.
        Assert.True(last.Sum("conduit_connections_open", ("port", "client")) >= 1, "the client's connection is counted on the client port");
        Assert.True(last.Has("conduit_connections_refused_total"), "refused connections are exported, at 0");
        Assert.Equal(0, last.Sum("conduit_connections_refused_total"));
        Assert.True(last.Has("dotnet_gc_collections_total") || last.Samples.Any(s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal)),
            "the runtime's own meter is exported beside Conduit's");
        // Every sample of the per-queue metrics names its queue; nothing was folded with 1 queue.
        Assert.All(last.Samples.Where(s => s.Name.StartsWith("conduit_queue_", StringComparison.Ordinal) && s.Name != "conduit_queue_labelled"),
            s => Assert.Equal(queue, s.Label("queue")));
    }

    [Fact(DisplayName = "a node with 150 queues and --metrics-queue-labels 20 serves /metrics with at most 21 queue label values per metric, the rest summed under _other")]
    public async Task ScrapeStaysWithinTheLabelLimit()
    {
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        var port = NodeProcess.FreePort();
        await using var node = NodeProcess.Start("--data", data, "--port", port.ToString(), "--cluster-port", "0", "--metrics-queue-labels", "20");
        var http = await node.HttpAddress();
        await using var client = ConduitClient.Connect($"127.0.0.1:{port}");
        const int queues = 150;
        // Queue i gets i % 5 + 1 tasks: 450 in all.
        // Starting 150 partitions at once is slow on SQLite, and the node sheds enqueues beyond its latency target:
        // Overloaded changed nothing, so those are sent again.
        async Task EnqueueAsync(int i)
        {
            while (true)
            {
                try
                {
                    await client.EnqueueBatchAsync($"many-{i}", Enumerable.Range(0, i % 5 + 1).Select(t => new[] { (byte)t }));
                    return;
                }
                catch (OverloadedException)
                {
                    await Task.Delay(100);
                }
            }
        }
        foreach (var chunk in Enumerable.Range(0, queues).Chunk(10)) await Task.WhenAll(chunk.Select(EnqueueAsync));
        const double tasks = queues / 5 * (1 + 2 + 3 + 4 + 5);

        await Eventually.Holds(async () =>
        {
            var scrape = await PrometheusText.ScrapeAsync(Http, http);
            Assert.Equal(tasks, scrape.Sum(Ready));
            Assert.Equal(tasks, scrape.Sum(Enqueued));
            foreach (var metric in scrape.Samples.Where(s => s.Label("queue") is not null).GroupBy(s => s.Name))
            {
                var values = metric.Select(s => s.Label("queue")).Distinct().ToList();
                Assert.True(values.Count <= 21, $"{metric.Key} has {values.Count} queue label values");
                Assert.Contains("_other", values);
            }
            Assert.Equal(20, scrape.Sum("conduit_queue_labelled"));
            Assert.Equal(queues, scrape.Sum("conduit_node_partitions"));
            // The labels went to the largest queues: every labelled one holds 5 tasks (i % 5 == 4), the most any has.
            Assert.All(scrape.Of(Ready).Where(s => s.Label("queue") != "_other"), s => Assert.Equal(5, s.Value));
        }, timeoutMs: 30_000, intervalMs: 200);
    }

    [Fact(DisplayName = "with --otlp-endpoint the node pushes its metrics over OTLP/gRPC to that address")]
    public async Task OtlpPush()
    {
        using var collector = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        collector.Start();
        var endpoint = $"http://127.0.0.1:{((System.Net.IPEndPoint)collector.LocalEndpoint).Port}";
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        await using var node = NodeProcess.Start(new Dictionary<string, string> { ["CONDUIT_OTLP_ENDPOINT"] = endpoint },
            "--data", data, "--port", "0", "--cluster-port", "0", "--no-http");
        await node.WaitForOutput($"Metrics pushed over OTLP to {endpoint}");

        // The first export comes one interval (15 s) after the start: a gRPC call, so an HTTP/2 connection preface.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var connection = await collector.AcceptTcpClientAsync(timeout.Token);
        var preface = new byte[24];
        await connection.GetStream().ReadExactlyAsync(preface, timeout.Token);
        Assert.Equal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", System.Text.Encoding.ASCII.GetString(preface));
    }
}
