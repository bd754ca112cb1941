using System.Text.RegularExpressions;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>The samples under <c>samples/</c>, built and run as processes against a node started by the test.</summary>
public sealed partial class SampleTests(SqliteClientNodeFixture fixture) : IClassFixture<SqliteClientNodeFixture>
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(90);

    [GeneratedRegex(@"^enqueued (\S+) job \d+$", RegexOptions.Multiline)]
    private static partial Regex EnqueuedLine();

    [GeneratedRegex(@"^processed (\S+) job \d+ \(attempt 1\)$", RegexOptions.Multiline)]
    private static partial Regex ProcessedLine();

    [Fact(DisplayName = "the sample worker processes exactly what the sample producer enqueued, then both exit 0")]
    public async Task ProducerThenWorker()
    {
        var queue = "samples-" + Guid.NewGuid().ToString("N")[..8];
        var common = new[] { "--server", fixture.Node.Server, "--queue", queue, "--count", "20" };

        var producer = await SampleProcess.RunAsync("Conduit.Samples.Producer", ProcessTimeout, common);
        Assert.True(producer.ExitCode == 0, producer.Output);
        var enqueued = EnqueuedLine().Matches(producer.Output).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(20, enqueued.Distinct().Count());
        Assert.Contains($"enqueued 20 tasks on queue {queue}", producer.Output);

        var worker = await SampleProcess.RunAsync("Conduit.Samples.Worker", ProcessTimeout, common);
        Assert.True(worker.ExitCode == 0, worker.Output);
        var processed = ProcessedLine().Matches(worker.Output).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(enqueued.Order(), processed.Order());

        foreach (var id in enqueued)
            await Eventually.Holds(async () => Assert.Equal(TaskStatus.Completed, (await fixture.Client.GetTaskAsync(id)).Status));
        var stats = await fixture.Client.GetQueueStatsAsync(queue);
        Assert.Equal((0L, 0L, 0L), (stats.Ready, stats.Running, stats.DeadLettered));
    }

    [Fact(DisplayName = "a sample given a bad argument exits 2 and prints its usage")]
    public async Task BadArgument()
    {
        var result = await SampleProcess.RunAsync("Conduit.Samples.Producer", ProcessTimeout, "--count", "many");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Usage: Conduit.Samples.Producer", result.Output);
    }
}
