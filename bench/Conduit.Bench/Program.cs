using System.Globalization;
using Conduit.Bench;
using Conduit.Bench.Scenarios;

// Conduit vs a PostgreSQL SKIP LOCKED baseline, same run, same PostgreSQL, same payloads and client concurrency.
// Started by bench/run.sh, which owns PostgreSQL; this program owns the Conduit node process.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
BenchConfig config;
try
{
    config = BenchConfig.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"error: {e.Message} (see bench/run.sh --help)");
    return 2;
}
await using var bench = new Bench(config);
await bench.StartAsync();
config = bench.Config;
Workloads.Pipeline = config.Pipeline;
var scenarios = new Scenarios(bench);
bool Run(int n) => config.Only.Count == 0 || config.Only.Contains(n.ToString()) || (n == 2 && config.Only.Contains("2d"));
var scenarioNames = new Dictionary<int, string>
{
    [1] = "enqueue", [2] = "end to end", [3] = "latency", [4] = $"backlog of {config.BigBacklog:N0}",
    [5] = $"{config.ManyQueues:N0} queues{(config.LargeQueues > 0 ? $", then {config.LargeQueues:N0} on a fresh node" : "")}",
    [6] = $"sustained mix, {config.SustainedDuration.TotalSeconds:0} s per side",
    [7] = "scale: 1 node × 4 partitions; frontend + 2 task services (not in quick unless --only 7)",
    [8] = "one journal write: Akka.Persistence.Sql alone, settings as shipped, without auto-preparation, and the plugin's defaults (not in quick unless --only 8)",
};
var runWatch = System.Diagnostics.Stopwatch.StartNew();

var r = bench.Report;
r.Line($"# Conduit benchmark{(config.Quick ? " (quick)" : "")}, {DateTime.Now:yyyy-MM-dd HH:mm}");
r.Line();
r.Line("## Machine");
var cpuModel = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim();
var memKb = long.Parse(File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
r.Table(["fact", "value"],
[
    ["cores", $"{Environment.ProcessorCount} ({cpuModel})"],
    ["memory", $"{memKb / 1048576.0:0} GiB"],
    ["OS / .NET", $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription} / {Environment.Version}"],
    ["load average at start", File.ReadAllText("/proc/loadavg").Trim()],
    .. (await bench.Probe.SettingsAsync()).Select(s => new[] { $"PostgreSQL {s.Name}", s.Value }),
    ["Conduit node", $"separate process, Release, PostgreSQL journal (Akka.Persistence.Sql), --partitions {config.Partitions}{(config.NodeHocon is null ? "" : $", --hocon {Path.GetFileName(config.NodeHocon)}")}, task history {(config.TaskHistory ? "on (24 h)" : "off")}"],
    ["Conduit client", "plain Akka remoting to /user/frontend (one client ActorSystem); scenario 2 also through ConduitClient"],
    ["baseline", $"a `FOR UPDATE SKIP LOCKED` table, one Npgsql connection per producer and worker, statements auto-prepared (`Max Auto Prepare={Conduit.Server.Hosting.PostgresDefaults.MaxAutoPrepare}`, as the node's)"],
    ["scenarios", string.Join("; ", scenarioNames.Where(kv => kv.Key switch { 7 => config.RunsScale, 8 => config.RunsJournalWrites, _ => Run(kv.Key) }).Select(kv => $"{kv.Key}. {kv.Value}"))],
    ["client concurrency", $"{config.Producers} producers, {config.Workers} workers, payload {config.PayloadBytes} B, enqueue batch {config.EnqueueBatch}, claim {config.ClaimSize}, worker loops {(config.Pipeline ? "pipelined (poll the next batch while completing the last)" : "not pipelined")}"],
]);
r.Line("Ratios are Conduit ÷ baseline for throughput and baseline ÷ Conduit for latency: above 1 means Conduit is ahead. " +
       "CPU is percent of one core (200% = the whole machine); \"other\" is everything else on this shared machine. " +
       "µs/task is CPU time per task done (CPU% × 10,000 ÷ tasks/s) of the node process(es), PostgreSQL (all its processes) " +
       "and the client (this bench process, which runs every producer and worker).");
r.Line();

var took = new List<string>();
async Task Timed(int n, Func<Task> scenario)
{
    var w = System.Diagnostics.Stopwatch.StartNew();
    await scenario();
    took.Add($"{n}: {w.Elapsed.TotalSeconds:0} s");
}
if (Enumerable.Range(1, 6).Any(Run))
{
    Bench.Progress("warming up");
    await Timed(0, scenarios.WarmUpAsync);
}
(double Conduit, double Batched) e2e = (0, 0);
if (Run(1)) await Timed(1, scenarios.EnqueueAsync);
if (Run(2)) await Timed(2, async () => e2e = await scenarios.EndToEndAsync());
if (Run(3)) await Timed(3, scenarios.LatencyAsync);
if (Run(4)) await Timed(4, scenarios.BacklogAsync);
if (config.RunsJournalWrites) await Timed(8, scenarios.JournalWritesAsync);
// 6 before 5: scenario 5 leaves thousands of queues on the node (and stops it for its 100,000-queue part); 7 stops it too.
if (Run(6)) await Timed(6, scenarios.SustainedAsync);
if (Run(5)) await Timed(5, scenarios.ManyQueuesAsync);
if (config.RunsScale) await Timed(7, scenarios.ScaleAsync);
r.Section(99);
r.Line($"Run length (after the build): {runWatch.Elapsed.TotalMinutes:0.0} min; scenario times (0: warm-up): {string.Join(", ", took)}.");

var text = r.ToString();
var stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss");
await File.WriteAllTextAsync(Path.Combine(config.OutDir, $"{(config.Quick ? "quick" : "full")}-{stamp}.md"), text);
Console.WriteLine(text);
Console.WriteLine($"e2e ratio vs batched baseline: {(e2e.Batched > 0 ? e2e.Conduit / e2e.Batched : 0).ToString("0.00", CultureInfo.InvariantCulture)}");
return 0;
