using System.Diagnostics;
using Conduit.Bench.Drivers;
using Conduit.Protocol;
using static Conduit.Bench.Report;

namespace Conduit.Bench.Scenarios;

/// <summary>
/// The eight scenarios. Each runs Conduit and (for 1-3, 5 and 6) the SKIP LOCKED baseline with the same loops. 6
/// (Sustained.cs), 7 (Scale.cs) and 8 (JournalWrites.cs) are in files of their own.
/// </summary>
public sealed partial class Scenarios(Bench b)
{
    private Bench B => b;
    private BenchConfig C => b.Config;
    private Report R => b.Report;

    /// <summary>
    /// JIT and connections warm on both sides before anything is timed: the node's hot paths go through tiered
    /// compilation (profiling the node cold showed a third of its CPU in the JIT), PostgreSQL's caches fill.
    /// </summary>
    public async Task WarmUpAsync()
    {
        foreach (var d in new IQueueDriver[] { b.Conduit, b.Baseline })
        {
            for (var round = 0; round < C.WarmUpRounds; round++)
            {
                await Workloads.Fill(d, "warmup", 10_000, C.Producers, 100, C.PayloadBytes);
                await Workloads.Drain(d, "warmup", C.Workers, C.ClaimSize, 10_000, TimeSpan.FromSeconds(30));
                await Workloads.Produce(d, "warmup", C.Producers, 1, C.PayloadBytes, TimeSpan.FromSeconds(1));
                await Workloads.Drain(d, "warmup", C.Workers, 1, long.MaxValue, TimeSpan.FromSeconds(1));
                await Workloads.Drain(d, "warmup", C.Workers, C.ClaimSize, long.MaxValue, TimeSpan.FromSeconds(1.5));
            }
        }
        await SkipLockedDriver.ResetAsync(C.BaselineConnectionString);
    }

    // ---- 1. enqueue -----------------------------------------------------------------------------------------

    public async Task EnqueueAsync()
    {
        R.Section(1);
        R.Line("## 1. Enqueue throughput");
        R.Line($"{C.Producers} producers in closed loops for {C.EnqueueDuration.TotalSeconds:0} s each; single = one task per request (one INSERT per " +
               $"commit for the baseline), batch = {C.EnqueueBatch} tasks per request (one multi-row INSERT). Every acknowledged task is durable on both sides.");
        R.Line();
        var runs = new List<Measured>();
        var rows = new List<string[]>();
        foreach (var batch in new[] { 1, C.EnqueueBatch })
        {
            await b.WaitForQuietAsync();
            var name = batch == 1 ? "single" : $"batch of {batch}";
            var conduit = await b.Measure($"Conduit enqueue {name}", () =>
                Workloads.Produce(b.Conduit, $"s1-{batch}", C.Producers, batch, C.PayloadBytes, C.EnqueueDuration));
            var baseline = await b.Measure($"baseline enqueue {name}", () =>
                Workloads.Produce(b.Baseline, $"s1-{batch}", C.Producers, batch, C.PayloadBytes, C.EnqueueDuration));
            await SkipLockedDriver.ResetAsync(C.BaselineConnectionString);
            runs.Add(conduit);
            runs.Add(baseline);
            rows.Add([name, F(conduit.Rate), F(baseline.Rate), Ratio(conduit.Rate, baseline.Rate)]);
            _reference[batch == 1 ? ScaleEnqueueSingle : ScaleEnqueueBatch] = (conduit.Rate, baseline.Rate);
        }
        R.Table(["enqueue (tasks/s)", "Conduit", "SKIP LOCKED", "ratio"], rows);
        R.Profile(runs);
    }

    // ---- 2. end to end --------------------------------------------------------------------------------------

    /// <returns>Conduit's drain rate and the batched baseline's, for the headline ratio.</returns>
    public async Task<(double Conduit, double Batched)> EndToEndAsync()
    {
        R.Section(2);
        R.Line("## 2. End-to-end throughput");
        R.Line($"Drain: a pre-filled backlog of {C.DrainBacklog:N0} tasks (fewer for one-per-claim, which is slow) drained by {C.Workers} workers " +
               $"that poll up to N tasks, then complete them (Conduit: one Complete request carrying every lease of the poll; baseline: DELETE " +
               $"of the claimed ids and COMMIT){(C.Pipeline ? ", pipelined: each worker polls its next batch while the last one completes (baseline: claims on a second connection while the first deletes and commits)" : "")}, for at most {C.DrainCap.TotalSeconds:0} s. Mix: {C.Producers / 2} producers enqueueing batches of 10 and " +
               $"{C.Workers} workers (claim {C.ClaimSize}) together for {C.MixDuration.TotalSeconds:0} s; completed tasks/s.");
        R.Line();
        var runs = new List<Measured>();
        var rows = new List<string[]>();
        double conduit50 = 0, baseline50 = 0;
        var drainOnly = C.Only.Contains("2d");
        foreach (var claim in drainOnly ? [C.ClaimSize] : new[] { 1, C.ClaimSize })
        {
            var backlog = claim == 1 ? C.DrainOneBacklog : C.DrainBacklog;
            var queue = $"s2-drain-{claim}";
            Bench.Progress($"filling {backlog:N0} tasks into Conduit");
            await Workloads.Fill(b.Conduit, queue, backlog, C.Producers, 500, C.PayloadBytes);
            await b.WaitForQuietAsync();
            var conduit = await b.MeasureDrain($"Conduit drain, {claim}/poll", () =>
                Workloads.Drain(b.Conduit, queue, C.Workers, claim, backlog, C.DrainCap));
            Bench.Progress($"filling {backlog:N0} tasks into the baseline");
            await Workloads.Fill(b.Baseline, queue, backlog, C.Producers, 500, C.PayloadBytes);
            await SkipLockedDriver.AnalyzeAsync(C.BaselineConnectionString);
            await b.WaitForQuietAsync();
            var baseline = await b.MeasureDrain($"baseline drain, {claim}/claim", () =>
                Workloads.Drain(b.Baseline, queue, C.Workers, claim, backlog, C.DrainCap));
            await SkipLockedDriver.ResetAsync(C.BaselineConnectionString);
            runs.Add(conduit);
            runs.Add(baseline);
            rows.Add([$"drain, {claim} per poll/claim", F(conduit.Rate), F(baseline.Rate), Ratio(conduit.Rate, baseline.Rate)]);
            if (claim == C.ClaimSize && b.Conduit is ConduitRemotingDriver remoting)
            {
                // The same drain with one Complete request per task (the protocol before MoreLeaseTokens), for comparison.
                (conduit50, baseline50) = (conduit.Rate, baseline.Rate);
                _reference[ScaleDrain] = (conduit.Rate, baseline.Rate);
                Bench.Progress($"filling {backlog:N0} tasks into Conduit");
                await Workloads.Fill(b.Conduit, queue + "-each", backlog, C.Producers, 500, C.PayloadBytes);
                await b.WaitForQuietAsync();
                remoting.CompleteInOneRequest = false;
                var each = await b.MeasureDrain($"Conduit drain, {claim}/poll, one Complete per task", () =>
                    Workloads.Drain(b.Conduit, queue + "-each", C.Workers, claim, backlog, C.DrainCap));
                remoting.CompleteInOneRequest = true;
                runs.Add(each);
                rows.Add([$"drain, {claim} per poll/claim, Conduit with one Complete request per task", F(each.Rate), F(baseline.Rate), Ratio(each.Rate, baseline.Rate)]);
                if (b.ConduitClient is { } client)
                {
                    // The same drain through the typed ConduitClient (its NodeLink and completion batching).
                    Bench.Progress($"filling {backlog:N0} tasks into Conduit");
                    await Workloads.Fill(b.Conduit, queue + "-client", backlog, C.Producers, 500, C.PayloadBytes);
                    await b.WaitForQuietAsync();
                    var viaClient = await b.MeasureDrain($"ConduitClient drain, {claim}/poll", () =>
                        Workloads.Drain(client, queue + "-client", C.Workers, claim, backlog, C.DrainCap));
                    runs.Add(viaClient);
                    rows.Add([$"drain, {claim} per poll/claim, Conduit through ConduitClient", F(viaClient.Rate), F(baseline.Rate), Ratio(viaClient.Rate, baseline.Rate)]);
                    // And through ConduitWorker (MaxConcurrency = the claim size), as applications drain a queue.
                    Bench.Progress($"filling {backlog:N0} tasks into Conduit");
                    await Workloads.Fill(b.Conduit, queue + "-worker", backlog, C.Producers, 500, C.PayloadBytes);
                    await b.WaitForQuietAsync();
                    var viaWorker = await b.MeasureDrain($"ConduitWorker drain, {claim} at once", () =>
                        Workloads.DrainWithWorkers(((ConduitClientDriver)client).Client, queue + "-worker", C.Workers, claim, backlog, C.DrainCap));
                    runs.Add(viaWorker);
                    rows.Add([$"drain, {C.Workers} ConduitWorkers × {claim} handlers at once", F(viaWorker.Rate), F(baseline.Rate), Ratio(viaWorker.Rate, baseline.Rate)]);
                }
            }
        }
        if (!drainOnly)
        {
            await b.WaitForQuietAsync();
            long enqueuedC = 0, enqueuedB = 0;
            var conduit = await b.Measure("Conduit mix", async () =>
            {
                var (e, c) = await Workloads.Mix(b.Conduit, "s2-mix", C.Producers / 2, 10, C.Workers, C.ClaimSize, C.PayloadBytes, C.MixDuration);
                enqueuedC = e;
                return c;
            });
            var baseline = await b.Measure("baseline mix", async () =>
            {
                var (e, c) = await Workloads.Mix(b.Baseline, "s2-mix", C.Producers / 2, 10, C.Workers, C.ClaimSize, C.PayloadBytes, C.MixDuration);
                enqueuedB = e;
                return c;
            });
            await SkipLockedDriver.ResetAsync(C.BaselineConnectionString);
            runs.Add(conduit);
            runs.Add(baseline);
            _reference[ScaleMix] = (conduit.Rate, baseline.Rate);
            rows.Add([$"mix: completed/s (enqueued/s)", $"{F(conduit.Rate)} ({F(enqueuedC / conduit.Seconds)})",
                $"{F(baseline.Rate)} ({F(enqueuedB / baseline.Seconds)})", Ratio(conduit.Rate, baseline.Rate)]);
        }
        R.Table(["end to end (tasks/s)", "Conduit", "SKIP LOCKED", "ratio"], rows);
        R.Profile(runs);
        return (conduit50, baseline50);
    }

    // ---- 3. latency -----------------------------------------------------------------------------------------

    public async Task LatencyAsync()
    {
        R.Section(3);
        R.Line("## 3. Schedule-to-start latency");
        R.Line($"A steady trickle of {C.TrickleRate} single enqueues/s (open loop) for {C.TrickleDuration.TotalSeconds:0} s into {C.Workers} idle " +
               $"waiting workers; from the enqueue call to the worker holding the task (HdrHistogram, ms). Conduit workers long-poll; the baseline " +
               $"polls again {C.BaselinePollInterval.TotalMilliseconds:0} ms after an empty claim (common defaults are 1-5 s).");
        R.Line();
        var results = new List<(string Name, HdrHistogram.LongHistogram H, long Sent, long Received)>();
        var runs = new List<Measured>();
        foreach (var (name, driver, claim) in new (string, IQueueDriver, int)[]
                 { ("Conduit", b.Conduit, C.ClaimSize), ("SKIP LOCKED, 1/claim", b.Baseline, 1), ($"SKIP LOCKED, {C.ClaimSize}/claim", b.Baseline, C.ClaimSize) })
        {
            await b.WaitForQuietAsync();
            HdrHistogram.LongHistogram h = null!;
            long sent = 0, received = 0;
            runs.Add(await b.Measure($"{name} trickle", async () =>
            {
                (h, sent, received) = await Workloads.Trickle(driver, "s3-trickle", C.Workers, claim, C.PayloadBytes, C.TrickleRate, C.TrickleDuration);
                return received;
            }));
            results.Add((name, h, sent, received));
            await SkipLockedDriver.ResetAsync(C.BaselineConnectionString);
        }
        static double Ms(HdrHistogram.LongHistogram h, double pct) => h.GetValueAtPercentile(pct) / 1000.0;
        var c = results[0].H;
        var rows = new List<string[]>();
        foreach (var (label, pct) in new[] { ("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("max", 100.0) })
        {
            var row = new List<string> { label, Ms(c, pct).ToString("0.00") };
            foreach (var r in results.Skip(1)) row.Add(Ms(r.H, pct).ToString("0.00"));
            foreach (var r in results.Skip(1)) row.Add(Ratio(Ms(r.H, pct), Ms(c, pct)));
            rows.Add(row.ToArray());
        }
        rows.Add(["received/sent", .. results.Select(r => $"{r.Received}/{r.Sent}"), .. results.Skip(1).Select(_ => "")]);
        R.Table(["latency (ms)", .. results.Select(r => r.Name), .. results.Skip(1).Select(r => $"{r.Name} ÷ Conduit")], rows);
        R.Profile(runs);
    }

    // ---- 4. big backlog -------------------------------------------------------------------------------------

    public async Task BacklogAsync()
    {
        R.Section(4);
        R.Line($"## 4. Backlog of {C.BigBacklog:N0} tasks");
        R.Line($"Fresh node process; fill with {C.Producers} producers (batches of 500); node RSS idle, holding, after a restart, and at its " +
               $"highest while {C.Workers} workers drain it (claim {C.ClaimSize}). Recovery: SIGTERM, start the process again, first poll.");
        R.Line();
        const string queue = "s4-backlog";
        await b.StopNodeAsync();
        await b.StartNodeAsync();
        await Task.Delay(2000);
        var idle = b.Node!.RssBytes();
        await b.WaitForQuietAsync();
        var fill = await b.Measure($"Conduit fill {C.BigBacklog:N0}", async () =>
        {
            await Workloads.Fill(b.Conduit, queue, C.BigBacklog, C.Producers, 500, C.PayloadBytes);
            return C.BigBacklog;
        });
        await Task.Delay(3000);
        var holding = b.Node.RssBytes();
        var stats = await ((ConduitRemotingDriver)b.Conduit).AskAsync<QueueStats>(new GetQueueStats(queue));
        var (_, journalRows) = await b.Probe.JournalAsync();
        var journalBytes = await b.Probe.RelationBytesAsync(C.ConduitConnectionString, "journal");

        var stop = await b.StopNodeAsync();
        var start = Stopwatch.StartNew();
        await b.StartNodeAsync();
        var listening = start.Elapsed;
        var firstPoll = Stopwatch.StartNew();
        var polled = await ((ConduitRemotingDriver)b.Conduit).AskAsync<Polled>(new Poll(queue, 1, 60_000), TimeSpan.FromSeconds(120));
        var recovery = firstPoll.Elapsed;
        var afterRestart = b.Node!.RssBytes();
        foreach (var t in polled.Tasks) await ((ConduitRemotingDriver)b.Conduit).AskAsync<Completed>(new Complete(t.LeaseToken));
        var recoveredLine = b.Node.Output.Split('\n').LastOrDefault(l => l.Contains($"Partition default/{queue}#0 recovered", StringComparison.Ordinal))?.Trim();

        long maxDuring = 0;
        await b.WaitForQuietAsync();
        var drain = await b.MeasureDrain($"Conduit drain {C.BigBacklog:N0}", () =>
            Workloads.Drain(b.Conduit, queue, C.Workers, C.ClaimSize, C.BigBacklog - polled.Tasks.Length, TimeSpan.FromMinutes(C.Quick ? 1 : 6),
                () => maxDuring = Math.Max(maxDuring, b.Node!.RssBytes())));
        await Task.Delay(2000);
        var drained = b.Node!.RssBytes();

        R.Table(["backlog", "Conduit"],
        [
            ["tasks queued (QueueStats.Ready)", stats.Ready.ToString("N0")],
            ["fill rate (tasks/s)", F(fill.Rate)],
            ["journal rows / table size after fill", $"{journalRows:N0} / {Mb(journalBytes)}"],
            ["node RSS idle (fresh process)", Mb(idle)],
            ["node RSS holding the backlog", Mb(holding)],
            ["node stop (SIGTERM, coordinated shutdown)", $"{stop.TotalSeconds:0.0} s"],
            ["restart: process start to listening", $"{listening.TotalSeconds:0.0} s"],
            ["restart: first poll answered (partition recovery + page-in)", $"{recovery.TotalSeconds:0.00} s"],
            ["node RSS holding the backlog after restart", Mb(afterRestart)],
            [$"node RSS highest while draining", Mb(maxDuring)],
            ["node RSS after the drain", Mb(drained)],
            ["drain rate (tasks/s)", $"{F(drain.Rate)} ({drain.Tasks:N0} in {drain.Seconds:0} s)"],
        ]);
        if (recoveredLine is not null) R.Line($"Node log: `{recoveredLine[Math.Max(0, recoveredLine.IndexOf("Partition", StringComparison.Ordinal))..]}`");
        R.Line();
        R.Profile([fill, drain]);
    }

    // ---- 5. many queues -------------------------------------------------------------------------------------

    public async Task ManyQueuesAsync()
    {
        R.Section(5);
        var n = C.ManyQueues;
        var per = C.TasksPerQueue;
        R.Line($"## 5. {n:N0} queues with {per} tasks each");
        R.Line($"{C.Producers} producers enqueue {per} tasks per queue as one batch request (the first request creates the queue's partition); " +
               $"then {C.Workers} workers visit every queue once (poll up to {C.ClaimSize}, complete). Node RSS before, after the enqueues, after the drain; " +
               "node CPU in seconds 0-3 and 7-10 after Conduit's drain stopped (the baseline runs after that)." +
               (C.LargeQueues > 0 ? $" Then a fresh node on a database of its own creates {C.LargeQueues:N0} queues the same way (enqueue only, " +
                   $"at most {C.LargeQueuesCap.TotalSeconds:0} s, after 200 untimed; the main node is stopped first)." : ""));
        R.Line();
        await b.WaitForQuietAsync();
        var before = b.Node!.RssBytes();
        await b.DumpNodeAsync("s5-before");
        var runs = new List<Measured>();
        var rows = new Dictionary<string, List<string>>();
        long afterEnqueue = 0, afterDrain = 0;
        CpuUse? idleEarly = null, idleLate = null;
        foreach (var driver in new IQueueDriver[] { b.Conduit, b.Baseline })
        {
            var enq = await b.Measure($"{driver.Name} enqueue {n:N0} queues", () => EnqueueQueues(driver, "s5", n, per, null));
            if (driver == b.Conduit)
            {
                afterEnqueue = b.Node.RssBytes();
                await b.DumpNodeAsync("s5-after-enqueue");
            }
            var drain = await b.Measure($"{driver.Name} drain {n:N0} queues", () => ForEachQueue("s5", n, C.Workers, async (q, state) =>
            {
                var worker = (IWorker)state;
                var got = 0;
                for (var attempt = 0; attempt < 20 && got < per; attempt++)
                {
                    var tasks = await worker.PollAsync(q, TimeSpan.FromMilliseconds(attempt == 0 ? 0 : 200), CancellationToken.None);
                    await worker.CompleteAllAsync();
                    got += tasks.Count;
                }
                return got;
            }, async () => await driver.OpenWorkerAsync(C.ClaimSize)));
            if (driver == b.Conduit)
            {
                afterDrain = b.Node.RssBytes();
                (idleEarly, idleLate) = await IdleAfterLoad();
            }
            runs.Add(enq);
            runs.Add(drain);
            (rows.GetValueOrDefault("enqueue") ?? (rows["enqueue"] = ["enqueue (tasks/s)"])).Add(F(enq.Rate));
            (rows.GetValueOrDefault("drain") ?? (rows["drain"] = ["drain (tasks/s)"])).Add($"{F(drain.Rate)} ({drain.Tasks:N0})");
        }
        await SkipLockedDriver.ResetAsync(C.BaselineConnectionString);
        var table = rows.Values.Select(r => r.Append(Ratio(ParseRate(r[1]), ParseRate(r[2]))).ToArray()).ToList();
        table.Add(["node RSS before / after enqueue / after drain", $"{Mb(before)} / {Mb(afterEnqueue)} / {Mb(afterDrain)}", "", ""]);
        table.Add(["node memory per queue (after enqueue)", $"{(afterEnqueue - before) / (double)n / 1024:0.0} KiB", "", ""]);
        table.Add([$"node CPU 0-3 s / 7-10 s after the drain, idle with {n:N0} queues",
            $"{idleEarly!.Node:0}% / {idleLate!.Node:0}% of a core", "", ""]);
        R.Table(["many queues", "Conduit", "SKIP LOCKED, 50/claim", "ratio"], table);
        if (C.LargeQueues > 0 && await LargeQueuesAsync(C.LargeQueues, per) is { } large) runs.Add(large);
        R.Profile(runs);
    }

    /// <summary>
    /// Scenario 5's second part: a fresh node (no other queues, a database of its own) creates up to
    /// <paramref name="n"/> queues; node memory per queue and idle CPU afterwards. The bench's main node is stopped
    /// first (idle or not, it would share the machine) and stays stopped.
    /// </summary>
    private async Task<Measured?> LargeQueuesAsync(int n, int per)
    {
        await b.StopNodeAsync();
        const string db = "conduit_queues";
        await b.Probe.CreateDatabasesAsync(db);
        var node = await b.StartExtraNodeAsync(new NodeOptions
        {
            Port = Bench.FreePort(), Database = db, Partitions = C.Partitions, Name = "queues",
            // Its default limit is 100,000 live partitions; the warm-up's 200 come on top.
            ExtraArgs = ["--max-live-partitions", (n * C.Partitions + 10_000).ToString()],
        });
        await using var driver = await ConduitRemotingDriver.ConnectAsync(node.Port);
        try
        {
            b.UseNodes([node], db);
            // Untimed: 200 queues first, so JIT-compiled code and the first shards are in RSS before "before".
            await EnqueueQueues(driver, "s5w", 200, per, null);
            await Task.Delay(2000);
            await b.WaitForQuietAsync();
            var before = node.RssBytes();
            var enq = await b.Measure($"Conduit enqueue {n:N0} queues, fresh node", () => EnqueueQueues(driver, "s5l", n, per, C.LargeQueuesCap));
            var queues = enq.Tasks / per;
            var after = node.RssBytes();
            var (early, late) = await IdleAfterLoad();
            var afterIdle = node.RssBytes();
            R.Table([$"{n:N0} queues, fresh node", "Conduit"],
            [
                ["queues created (each with its first batch of " + per + ")", $"{queues:N0}{(queues < n ? $" (stopped at {C.LargeQueuesCap.TotalSeconds:0} s)" : "")}"],
                ["enqueue (tasks/s) / queues created per s", $"{F(enq.Rate)} / {F(queues / enq.Seconds)}"],
                ["node RSS before / after enqueue / 10 s later", $"{Mb(before)} / {Mb(after)} / {Mb(afterIdle)}"],
                ["node memory per queue (after enqueue)", $"{(after - before) / (double)Math.Max(1, queues) / 1024:0.0} KiB"],
                [$"node CPU 0-3 s / 7-10 s after the enqueue, idle with {queues:N0} queues", $"{early.Node:0}% / {late.Node:0}% of a core"],
            ]);
            return enq;
        }
        catch (Exception e) when (e is ConduitRejectedException or TimeoutException or Akka.Actor.AskTimeoutException)
        {
            // Late in a full run: say what failed and go on to scenario 7 rather than lose the run.
            Bench.Progress($"{n:N0} queues: {e.Message}");
            R.Line($"{n:N0} queues on a fresh node: **failed**: {e.Message.Split('\n')[0]}");
            R.Line();
            return null;
        }
        finally
        {
            b.UseNodes(null);
            await driver.DisposeAsync();
            await node.StopAsync();
            await node.DisposeAsync();
        }
    }

    /// <summary>The measured node's CPU over seconds 0-3 and 7-10 after a load stopped (the issue asks for idle within 10 s).</summary>
    private async Task<(CpuUse Early, CpuUse Late)> IdleAfterLoad()
    {
        var pids = b.MeasuredNodes.Select(x => x.Pid).ToArray();
        var watch = Stopwatch.StartNew();
        var meter = CpuMeter.Start(() => pids, C.PostmasterPid);
        await Task.Delay(3000);
        var early = meter.Stop();
        await Task.Delay(TimeSpan.FromSeconds(7) - watch.Elapsed);
        meter = CpuMeter.Start(() => pids, C.PostmasterPid);
        await Task.Delay(3000);
        var late = meter.Stop();
        Bench.Progress($"idle after the load: 0-3 s {early}; 7-10 s {late}");
        return (early, late);
    }

    /// <summary>Queues PREFIX-0 .. PREFIX-(n-1), each created by one batch of <paramref name="per"/> tasks; stops early at <paramref name="cap"/>.</summary>
    private Task<long> EnqueueQueues(IQueueDriver driver, string prefix, int n, int per, TimeSpan? cap) =>
        ForEachQueue(prefix, n, C.Producers, async (q, state) =>
        {
            var producer = (IProducer)state;
            await producer.EnqueueBatchAsync(q, Enumerable.Repeat(Workloads.Payload(C.PayloadBytes), per).ToArray());
            return per;
        }, async () => await driver.OpenProducerAsync(), cap);

    private static double ParseRate(string cell) =>
        double.TryParse(cell.Split(' ')[0].Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0;

    /// <summary>
    /// Visits queues PREFIX-0 .. PREFIX-(n-1) with <paramref name="parallel"/> loops, each with its own producer or worker;
    /// with a <paramref name="cap"/>, no new queue is started after it.
    /// </summary>
    private static async Task<long> ForEachQueue(string prefix, int n, int parallel, Func<string, IAsyncDisposable, Task<int>> visit,
        Func<Task<IAsyncDisposable>> open, TimeSpan? cap = null)
    {
        long next = -1, total = 0;
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, parallel), new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (_, _) =>
        {
            await using var state = await open();
            long i;
            while ((cap is null || watch.Elapsed < cap) && (i = Interlocked.Increment(ref next)) < n)
                Interlocked.Add(ref total, await visit($"{prefix}-{i}", state));
        });
        return total;
    }
}
