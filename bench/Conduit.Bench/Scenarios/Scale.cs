using System.Diagnostics;
using Conduit.Bench.Drivers;
using Conduit.Client;
using Conduit.Protocol;
using static Conduit.Bench.Report;

namespace Conduit.Bench.Scenarios;

public sealed partial class Scenarios
{
    // ---- 7. scale -------------------------------------------------------------------------------------------

    private const string ScaleEnqueueSingle = "enqueue, single";
    private const string ScaleEnqueueBatch = "enqueue, batch";
    private const string ScaleDrain = "drain";
    private const string ScaleMix = "mix";
    private const int ScalePartitions = 4;

    /// <summary>Scenarios 1 and 2's rates of this run (Conduit, baseline), shown next to scenario 7's.</summary>
    private readonly Dictionary<string, (double Conduit, double Baseline)> _reference = [];

    /// <summary>One layout of scenario 7: its node processes (the first is the one clients talk to) on a database of their own.</summary>
    private sealed record ScaleSetup(string Name, string Database, Func<NodeOptions[]> Nodes);

    /// <summary>
    /// The workloads of scenarios 1 and 2 on other layouts: one node with 4 partitions per queue, and a cluster of one
    /// frontend-only node (the one clients talk to) and two task-service nodes, 4 partitions per queue, so both task
    /// services own partitions of the one queue. Each layout runs on a fresh database; the bench's own node is stopped
    /// first (it would share the machine) and stays stopped.
    /// </summary>
    public async Task ScaleAsync()
    {
        R.Section(7);
        R.Line("## 7. Scale: partitions and nodes");
        R.Line($"Scenarios 1 and 2's workloads, shorter (enqueue single and batch for {C.ScaleEnqueueDuration.TotalSeconds:0} s each, drain of " +
               $"{C.ScaleDrainBacklog:N0} by {C.Workers} × {C.ClaimSize} for at most {C.ScaleDrainCap.TotalSeconds:0} s, mix for {C.ScaleMixDuration.TotalSeconds:0} s) on other layouts, each on a " +
               $"fresh database with nodes started for it (the bench's own node is stopped): one node with `--partitions {ScalePartitions}`, and a " +
               $"cluster of one `--roles frontend` node and two `--roles taskservice` nodes (`--partitions {ScalePartitions}`, seeded at the frontend's " +
               "cluster port) where the bench talks to the frontend only. All processes share this machine's 2 cores with PostgreSQL and the bench, " +
               "so these figures show the cost per task of each layout (CPU µs per task per process, PostgreSQL work per task), not what " +
               "nodes on machines of their own would reach. The 1-partition and baseline columns are scenarios 1-2 of this run.");
        R.Line();
        await B.StopNodeAsync();
        var setups = new[]
        {
            new ScaleSetup($"1 node, {ScalePartitions} partitions", "conduit_p4",
                () => [new NodeOptions { Port = Bench.FreePort(), Partitions = ScalePartitions, Database = "conduit_p4", Name = "p4" }]),
            new ScaleSetup($"frontend + 2 task services, {ScalePartitions} partitions", "conduit_cluster", () =>
            {
                var seedPort = Bench.FreePort();
                var seed = $"akka.tcp://conduit-cluster@127.0.0.1:{seedPort}";
                NodeOptions Ts(string name) => new()
                {
                    Port = Bench.FreePort(), Partitions = ScalePartitions, Database = "conduit_cluster", Roles = "taskservice", Seeds = [seed], Name = name,
                };
                return
                [
                    new NodeOptions { Port = Bench.FreePort(), ClusterPort = seedPort, Partitions = ScalePartitions, Database = "conduit_cluster", Roles = "frontend", Name = "fe" },
                    Ts("ts1"), Ts("ts2"),
                ];
            }),
        };
        var runs = new List<Measured>();
        var results = new Dictionary<string, Dictionary<string, string>>();
        foreach (var setup in setups)
        {
            var cells = results[setup.Name] = [];
            await B.Probe.CreateDatabasesAsync(setup.Database);
            var nodes = new List<NodeProcess>();
            ConduitRemotingDriver? driver = null;
            try
            {
                // One after another: the first creates the journal tables, and the seed must listen before the others join it.
                foreach (var options in setup.Nodes())
                {
                    Bench.Progress($"{setup.Name}: starting {options.Name}");
                    nodes.Add(await B.StartExtraNodeAsync(options));
                }
                B.UseNodes(nodes, setup.Database);
                driver = await ConduitRemotingDriver.ConnectAsync(nodes[0].Port);
                await WaitUntilServingAsync(setup.Name, driver, nodes[0].Port, nodes.Count);
                Bench.Progress($"{setup.Name}: warming up");
                await Workloads.Fill(driver, "s7-warmup", 10_000, C.Producers, 100, C.PayloadBytes);
                await Workloads.Drain(driver, "s7-warmup", C.Workers, C.ClaimSize, 10_000, TimeSpan.FromSeconds(30));
                await Workloads.Mix(driver, "s7-warmup", C.Producers / 2, 10, C.Workers, C.ClaimSize, C.PayloadBytes, TimeSpan.FromSeconds(C.Quick ? 1 : 3));

                {
                    foreach (var batch in new[] { 1, C.EnqueueBatch })
                    {
                        await B.WaitForQuietAsync();
                        var m = await B.Measure($"{setup.Name}: enqueue {(batch == 1 ? "single" : $"batch of {batch}")}", () =>
                            Workloads.Produce(driver, $"s7-{batch}", C.Producers, batch, C.PayloadBytes, C.ScaleEnqueueDuration));
                        runs.Add(m);
                        cells[batch == 1 ? ScaleEnqueueSingle : ScaleEnqueueBatch] = F(m.Rate);
                    }
                }
                var backlog = C.ScaleDrainBacklog;
                Bench.Progress($"{setup.Name}: filling {backlog:N0} tasks");
                await Workloads.Fill(driver, "s7-drain", backlog, C.Producers, 500, C.PayloadBytes);
                await B.WaitForQuietAsync();
                var drain = await B.MeasureDrain($"{setup.Name}: drain, {C.ClaimSize}/poll", () =>
                    Workloads.Drain(driver, "s7-drain", C.Workers, C.ClaimSize, backlog, C.ScaleDrainCap));
                runs.Add(drain);
                cells[ScaleDrain] = F(drain.Rate);
                if (drain.Tasks < backlog)
                {
                    // Stopped by its cap: drain the rest (not timed) to check that polls reach every partition's tasks.
                    var rest = Stopwatch.StartNew();
                    var (more, _) = await Workloads.Drain(driver, "s7-drain", C.Workers, C.ClaimSize, backlog - drain.Tasks, TimeSpan.FromSeconds(60));
                    var left = (await driver.AskAsync<QueueStats>(new GetQueueStats("s7-drain"))).Ready;
                    cells[ScaleDrain] += $" ({drain.Tasks:N0} in {drain.Seconds:0} s; the other {more:N0} in {rest.Elapsed.TotalSeconds:0} s more" +
                                         $"{(left > 0 ? $", **{left:N0} still ready**" : "")})";
                }

                await B.WaitForQuietAsync();
                long enqueued = 0;
                var mix = await B.Measure($"{setup.Name}: mix", async () =>
                {
                    var (e, c) = await Workloads.Mix(driver, "s7-mix", C.Producers / 2, 10, C.Workers, C.ClaimSize, C.PayloadBytes, C.ScaleMixDuration);
                    enqueued = e;
                    return c;
                });
                runs.Add(mix);
                cells[ScaleMix] = $"{F(mix.Rate)} ({F(enqueued / mix.Seconds)})";
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or ConduitRejectedException)
            {
                // A layout that does not come up (or stops answering) is reported, and the run goes on.
                Bench.Progress($"{setup.Name}: {e.Message}");
                cells["error"] = e.Message.Split('\n')[0];
            }
            finally
            {
                B.UseNodes(null);
                if (driver is not null) await driver.DisposeAsync();
                foreach (var node in nodes)
                {
                    await node.StopAsync();
                    await node.DisposeAsync();
                }
            }
        }

        var names = new[] { ScaleEnqueueSingle, ScaleEnqueueBatch, ScaleDrain, ScaleMix };
        string Label(string w) => w switch
        {
            ScaleEnqueueBatch => $"enqueue, batch of {C.EnqueueBatch}",
            ScaleDrain => $"drain, {C.Workers} × {C.ClaimSize} (scenario 2: {C.DrainBacklog:N0}; here {C.ScaleDrainBacklog:N0})",
            ScaleMix => "mix: completed/s (enqueued/s)",
            _ => w,
        };
        string Ref(string w, bool conduit) => _reference.TryGetValue(w, out var r) ? F(conduit ? r.Conduit : r.Baseline) : "-";
        var rows = names.Select(w => (string[])[Label(w), Ref(w, true), .. setups.Select(s => results[s.Name].GetValueOrDefault(w) ?? "-"), Ref(w, false)]).ToList();
        foreach (var s in setups.Where(s => results[s.Name].ContainsKey("error")))
            rows.Add([$"{s.Name}: failed", "", .. setups.Select(x => x == s ? results[s.Name]["error"] : ""), ""]);
        R.Table(["tasks/s", "1 node, 1 partition", .. setups.Select(s => s.Name), "SKIP LOCKED"], rows);
        R.Line("Node CPU cells of the cluster list frontend + task service 1 + task service 2 = all three.");
        R.Line();
        R.Profile(runs);
    }

    /// <summary>
    /// Until the cluster has <paramref name="members"/> members Up (asked through the management endpoint) and a test
    /// enqueue to every partition went through and came back out: only then are its partitions reachable from the frontend.
    /// </summary>
    private async Task WaitUntilServingAsync(string name, ConduitRemotingDriver driver, int port, int members)
    {
        var watch = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(120);
        await using (var management = new ConduitClient(new ConduitClientOptions { Servers = [$"127.0.0.1:{port}"], RequestTimeout = TimeSpan.FromSeconds(5) }))
        {
            while (true)
            {
                try
                {
                    if (await management.AskRawAsync(ConduitClient.ManagementPath, new GetClusterState()) is ClusterState state
                        && state.Members.Count(m => m.Status == "Up") >= members)
                        break;
                }
                catch (ConduitException) { }
                catch (TimeoutException) { }
                if (watch.Elapsed > limit) throw new TimeoutException($"{name}: fewer than {members} members Up after {limit.TotalSeconds:0} s");
                await Task.Delay(250);
            }
        }
        Bench.Progress($"{name}: {members} member(s) Up after {watch.Elapsed.TotalSeconds:0.0} s");
        const string queue = "s7-ready";
        var sent = 0;
        while (sent < 4 * ScalePartitions)
        {
            try
            {
                await driver.AskAsync<Enqueued>(new Enqueue(queue, new TaskSpec(Workloads.Payload(C.PayloadBytes))), TimeSpan.FromSeconds(5));
                sent++;
            }
            catch (Exception e) when (e is TimeoutException or ConduitRejectedException or Akka.Actor.AskTimeoutException)
            {
                if (watch.Elapsed > limit) throw new TimeoutException($"{name}: test enqueues still failing after {limit.TotalSeconds:0} s: {e.Message}");
                await Task.Delay(250);
            }
        }
        var (done, _) = await Workloads.Drain(driver, queue, 2, C.ClaimSize, sent, TimeSpan.FromSeconds(30));
        if (done < sent) throw new TimeoutException($"{name}: {sent} test tasks enqueued, only {done} polled back in 30 s");
        Bench.Progress($"{name}: serving after {watch.Elapsed.TotalSeconds:0.0} s ({sent} test tasks in and out)");
    }
}
