using System.Globalization;
using Conduit.Client;
using Conduit.Protocol;
using Conduit.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Conduit.Node.Tests.Faults;

[Collection(ProcessFaultCollection.Name)]
public sealed class ScheduleKillTests(ITestOutputHelper output)
{
    private const long IntervalMs = 3_000;

    [Fact(DisplayName = "a schedule on a node killed with -9 and restarted after missing due times runs once for them (RunOnce), runs no due time twice, and goes on")]
    public async Task KillAndRestart()
    {
        var port = NodeProcess.FreePort();
        var clusterPort = NodeProcess.FreePort();
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        string[] args = ["--port", port.ToString(), "--cluster-port", clusterPort.ToString(), "--data", data];
        await using var client = new ConduitClient(new ConduitClientOptions { Servers = [$"127.0.0.1:{port}"], RequestTimeout = TimeSpan.FromSeconds(5) });
        var spec = new ScheduleSpec("ticks", new TaskSpec([7]), IntervalMs: IntervalMs, MissedRuns: MissedRunPolicy.RunOnce, MissedAfterMs: 1_000);
        var dues = new List<long>();

        async Task Collect(int count)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var target = dues.Count + count;
            while (dues.Count < target)
            {
                deadline.Token.ThrowIfCancellationRequested();
                foreach (var task in await client.PollAsync("ticks", 10, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1)))
                {
                    dues.Add(long.Parse(task.Headers[ScheduleSpec.DueHeader], CultureInfo.InvariantCulture));
                    await client.CompleteAsync(task.LeaseToken);
                }
            }
        }

        long killedAt;
        await using (var first = NodeProcess.Start(args))
        {
            await first.WaitForOutput("Conduit node listening on");
            await Eventually.Holds(() => client.PutScheduleAsync("ticker", spec), timeoutMs: 30_000, intervalMs: 200);
            await WithNodeOutputOnFailure(first, () => Collect(2));
            await first.KillHard();
            killedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        }
        var lastBeforeKill = dues.Max();
        // The outage itself: long enough that at least two due times pass while no node runs.
        await Task.Delay(TimeSpan.FromMilliseconds(2 * IntervalMs + 500));

        await using var second = NodeProcess.Start(args);
        await second.WaitForOutput("Conduit node listening on");
        await WithNodeOutputOnFailure(second, () => Collect(2));
        var info = await client.GetScheduleAsync("ticker");
        output.WriteLine($"killed at {killedAt}; dues {string.Join(", ", dues)}; runs {info.Runs}, skipped {info.Skipped}");

        Assert.Equal(dues.Count, dues.Distinct().Count());
        var afterKill = dues.Where(d => d > lastBeforeKill).Order().ToList();
        // The missed due times (at least two) were run once, as one run; the next run is the next regular due time.
        Assert.True(afterKill[1] - afterKill[0] == IntervalMs, $"after the restart: {string.Join(", ", afterKill)}");
        Assert.True(afterKill[0] - lastBeforeKill >= 2 * IntervalMs, "the first run after the restart stands for the due times missed while down");
        Assert.True(info.Skipped >= 1, $"the missed due times other than the one run are counted as skipped ({info.Skipped})");
        Assert.True(info.Runs >= dues.Count);
    }

    /// <summary>
    /// Runs <paramref name="step"/>; when it fails, the node's output goes into the test's output. A clean-clone CI run
    /// (2026-12-03) once had the first poll after the node started go unanswered for 15 s, and this was not seen again
    /// in 16 runs here: the node's side of it is what the next failure should show.
    /// </summary>
    private async Task WithNodeOutputOnFailure(NodeProcess node, Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (Exception)
        {
            output.WriteLine($"node output:\n{node.Output}");
            throw;
        }
    }
}
