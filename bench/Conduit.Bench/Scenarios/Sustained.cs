using System.Diagnostics;
using Conduit.Bench.Drivers;
using Conduit.Protocol;
using Npgsql;
using static Conduit.Bench.Report;

namespace Conduit.Bench.Scenarios;

public sealed partial class Scenarios
{
    // ---- 6. sustained ---------------------------------------------------------------------------------------

    /// <summary>
    /// Scenario 2's mix, for <see cref="BenchConfig.SustainedDuration"/> per side (10 minutes in the full run): completed
    /// tasks/s and CPU per task in each tenth of the run, last ÷ first, and the backlog left at the end. Closed loops:
    /// each side runs at the rate it holds; a side whose workers fall behind its producers shows a growing backlog.
    /// </summary>
    public async Task SustainedAsync()
    {
        R.Section(6);
        var duration = C.SustainedDuration;
        var periods = BenchConfig.SustainedPeriods;
        var period = duration / periods;
        const string queue = "s6-sustained";
        R.Line("## 6. Sustained mix");
        R.Line($"Scenario 2's mix ({C.Producers / 2} producers enqueueing batches of 10, {C.Workers} workers claiming up to {C.ClaimSize}, " +
               $"closed loops) for {Dur(duration)} per side (after {(C.Quick ? 1 : 5)} s untimed on the same queue), Conduit first, then the baseline on a freshly truncated table. Completed tasks/s " +
               $"and CPU per completed task in each {Dur(period)}; \"last ÷ first\" compares the last period with the first. " +
               "Closed loops run each side at the rate it holds; when workers fall behind producers the queue grows, so the backlog " +
               "left at the end is shown (Conduit: QueueStats.Ready; baseline: rows left in its table).");
        R.Line();
        var runs = new List<Measured>();
        var sides = new List<(string Name, List<(double Completed, double Enqueued, CpuUse Cpu)> Periods, long Enqueued, long Backlog)>();
        foreach (var driver in new IQueueDriver[] { B.Conduit, B.Baseline })
        {
            // Untimed: the queue's partition (or the table's pages) and the connections exist before the first period starts.
            await Workloads.Mix(driver, queue, C.Producers / 2, 10, C.Workers, C.ClaimSize, C.PayloadBytes, TimeSpan.FromSeconds(C.Quick ? 1 : 5));
            await B.WaitForQuietAsync();
            var counting = new CountingDriver(driver);
            var samples = new List<(double, double, CpuUse)>();
            long enqueued = 0;
            var m = await B.Measure($"{driver.Name} sustained {Dur(duration)}", async () =>
            {
                var mix = Workloads.Mix(counting, queue, C.Producers / 2, 10, C.Workers, C.ClaimSize, C.PayloadBytes, duration);
                var watch = Stopwatch.StartNew();
                long lastDone = 0, lastIn = 0;
                var pids = B.MeasuredNodes.Select(n => n.Pid).ToArray();
                var meter = CpuMeter.Start(() => pids, C.PostmasterPid);
                var last = TimeSpan.Zero;
                for (var i = 1; i <= periods; i++)
                {
                    var wait = period * i - watch.Elapsed;
                    if (wait > TimeSpan.Zero) await Task.Delay(wait);
                    var (done, got, now) = (counting.Completed, counting.Enqueued, watch.Elapsed);
                    var cpu = meter.Stop();
                    meter = CpuMeter.Start(() => pids, C.PostmasterPid);
                    var seconds = (now - last).TotalSeconds;
                    samples.Add(((done - lastDone) / seconds, (got - lastIn) / seconds, cpu));
                    Bench.Progress($"{driver.Name} sustained, {i}/{periods}: {(done - lastDone) / seconds:N0} completed/s, {(got - lastIn) / seconds:N0} enqueued/s; {cpu}");
                    (lastDone, lastIn, last) = (done, got, now);
                }
                var (e, c) = await mix;
                enqueued = e;
                return c;
            });
            long backlog = driver == B.Conduit
                ? (await ((ConduitRemotingDriver)B.Conduit).AskAsync<QueueStats>(new GetQueueStats(queue))).Ready
                : await BaselineRowsAsync(queue);
            if (driver != B.Conduit) await SkipLockedDriver.ResetAsync(C.BaselineConnectionString);
            runs.Add(m);
            sides.Add((driver.Name, samples, enqueued, backlog));
        }

        var (c6, b6) = (sides[0], sides[1]);
        string Us(double pct, double rate) => rate > 0 ? F(pct * 10_000 / rate) : "-";
        var rows = new List<string[]>();
        for (var i = 0; i < periods; i++)
        {
            var (cc, _, ccpu) = c6.Periods[i];
            var (bc, _, bcpu) = b6.Periods[i];
            rows.Add([$"{(period == TimeSpan.FromMinutes(1) ? "minute" : "period")} {i + 1}", F(cc), Us(ccpu.Node, cc), Us(ccpu.Postgres, cc),
                F(bc), Us(bcpu.Postgres, bc), Ratio(cc, bc)]);
        }
        double LastFirst(List<(double Completed, double Enqueued, CpuUse Cpu)> p) => p[0].Completed > 0 ? p[^1].Completed / p[0].Completed : 0;
        rows.Add(["**last ÷ first**", $"**{LastFirst(c6.Periods):0.00}**", "", "", $"**{LastFirst(b6.Periods):0.00}**", "", ""]);
        rows.Add(["whole run: completed/s (enqueued/s)", $"{F(runs[0].Rate)} ({F(c6.Enqueued / runs[0].Seconds)})", "", "",
            $"{F(runs[1].Rate)} ({F(b6.Enqueued / runs[1].Seconds)})", "", Ratio(runs[0].Rate, runs[1].Rate)]);
        rows.Add(["backlog at the end (tasks)", c6.Backlog.ToString("N0"), "", "", b6.Backlog.ToString("N0"), "", ""]);
        R.Table(["sustained mix", "Conduit completed/s", "node µs/task", "PG µs/task", "SKIP LOCKED completed/s", "PG µs/task", "ratio"], rows);
        R.Profile(runs);
    }

    private async Task<long> BaselineRowsAsync(string queue)
    {
        await using var c = new NpgsqlConnection(C.BaselineConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM tasks WHERE queue = $1", c) { Parameters = { new() { Value = queue } } };
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static string Dur(TimeSpan t) => t.TotalSeconds >= 60 && t.TotalSeconds % 60 == 0 ? $"{t.TotalMinutes:0} min" : $"{t.TotalSeconds:0.#} s";
}
