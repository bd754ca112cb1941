using Conduit.Server.Hosting;
using Npgsql;

namespace Conduit.Bench;

/// <summary>Everything a run needs, from the command line (bench/run.sh passes it).</summary>
public sealed record BenchConfig
{
    public required int PgPort { get; init; }
    public required string PgDataDir { get; init; }
    public required string NodeDll { get; init; }
    public required string OutDir { get; init; }
    public bool Quick { get; init; }
    public int NodePort { get; init; }
    public int Partitions { get; init; } = 1;
    public string? NodeHocon { get; init; }
    public bool NodeServerGc { get; init; }
    /// <summary>Run the node with its task history on (24 h, the node's default); off by default, as the baseline keeps nothing (docs/results.md).</summary>
    public bool TaskHistory { get; init; }
    /// <summary>Client concurrency, the same for Conduit and the baseline.</summary>
    public int Producers { get; init; } = 8;
    public int Workers { get; init; } = 8;
    public int PayloadBytes { get; init; } = 100;
    public int EnqueueBatch { get; init; } = 100;
    public int ClaimSize { get; init; } = 50;
    public TimeSpan BaselinePollInterval { get; init; } = TimeSpan.FromMilliseconds(50);
    /// <summary>Worker loops poll the next batch while the last one completes (<see cref="Workloads.WorkLoop"/>), on both sides. Defaults to true; <c>--no-pipeline</c>.</summary>
    public bool Pipeline { get; init; } = true;
    /// <summary>Only these scenarios (1-8; "2d": only the batched drain of 2, for experiments); all when empty.</summary>
    public HashSet<string> Only { get; init; } = [];

    public TimeSpan EnqueueDuration => Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(8);
    public int? DrainBacklogOverride { get; init; }
    public int DrainBacklog => DrainBacklogOverride ?? (Quick ? 20_000 : 200_000);
    public TimeSpan DrainCap => Quick ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(40);
    public TimeSpan MixDuration => Quick ? TimeSpan.FromSeconds(4) : TimeSpan.FromSeconds(15);
    public int TrickleRate { get; init; } = 200;
    /// <summary>Length of each trickle run: 3 s quick, 10 s full; <c>--trickle SECONDS</c> overrides (a long one profiles a warm node).</summary>
    public TimeSpan TrickleDuration => TimeSpan.FromSeconds(TrickleSecondsOverride ?? (Quick ? 3 : 10));
    public int? TrickleSecondsOverride { get; init; }
    public int BigBacklog => Quick ? 30_000 : 1_000_000;
    public int? ManyQueuesOverride { get; init; }
    public int ManyQueues => ManyQueuesOverride ?? (Quick ? 500 : 10_000);
    public int TasksPerQueue { get; init; } = 3;
    /// <summary>Scenario 5's second measurement on a fresh node: this many queues (0: none). Defaults to 100,000, none in quick.</summary>
    public int? LargeQueuesOverride { get; init; }
    public int LargeQueues => LargeQueuesOverride ?? (Quick ? 0 : 100_000);
    /// <summary>The large-queue enqueue stops after this long whatever it reached (it says how many queues it made).</summary>
    public TimeSpan LargeQueuesCap => Quick ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(120);
    /// <summary>Scenario 6, per side: 10 minutes, 8 s in quick (which must stay under 3 minutes).</summary>
    public int? SustainedSecondsOverride { get; init; }
    public TimeSpan SustainedDuration => TimeSpan.FromSeconds(SustainedSecondsOverride ?? (Quick ? 8 : 600));
    /// <summary>Scenario 6 reports completed/s per tenth of the run (per minute in the full run).</summary>
    public const int SustainedPeriods = 10;
    /// <summary>Scenario 2's one-per-claim drain (slow: its backlog is smaller).</summary>
    public int DrainOneBacklog => Math.Min(DrainBacklog, Quick ? 10_000 : 20_000);
    /// <summary>Warm-up rounds of the bench's node and the baseline before anything is timed.</summary>
    public int WarmUpRounds => Quick ? 1 : 2;
    /// <summary>Scenario 7 (each of its two layouts): shorter than scenarios 1-2 to keep the full run under 30 minutes.</summary>
    public TimeSpan ScaleEnqueueDuration => TimeSpan.FromSeconds(Quick ? 3 : 5);
    public int ScaleDrainBacklog => Math.Min(DrainBacklog, 100_000);
    public TimeSpan ScaleDrainCap => TimeSpan.FromSeconds(Quick ? 5 : 20);
    public TimeSpan ScaleMixDuration => TimeSpan.FromSeconds(Quick ? 4 : 10);
    /// <summary>Scenario 7 runs in a quick run only when asked for (--only 7): three more node processes take too long.</summary>
    public bool RunsScale => RunsFullOnly("7");
    /// <summary>Scenario 8 (one journal write) runs in the full run, and in a quick one only when asked for.</summary>
    public bool RunsJournalWrites => RunsFullOnly("8");
    private bool RunsFullOnly(string scenario) => Only.Count == 0 ? !Quick : Only.Contains(scenario);

    public string AdminConnectionString => Cs("postgres", 4);
    public string ConduitConnectionString => Cs("conduit", 50);
    /// <summary>A Conduit journal database of its own (the scale scenario's nodes, the 100,000-queue node), same pool size.</summary>
    public string ConduitConnectionStringFor(string database) => Cs(database, 50);
    /// <summary>
    /// The baseline's statements are prepared as the node's are (<see cref="PostgresDefaults"/>, which the node adds to
    /// the Conduit strings above): a `SKIP LOCKED` user would turn it on too, and the comparison is of the designs.
    /// </summary>
    public string BaselineConnectionString => new NpgsqlConnectionStringBuilder(Cs("baseline", 100)) { MaxAutoPrepare = PostgresDefaults.MaxAutoPrepare }.ConnectionString;

    private string Cs(string db, int pool) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = PgPort, Username = "postgres", Database = db, MaxPoolSize = pool, NoResetOnClose = true,
    }.ConnectionString;

    public int PostmasterPid => int.Parse(File.ReadLines(Path.Combine(PgDataDir, "postmaster.pid")).First());

    public static BenchConfig Parse(string[] args)
    {
        var map = new Dictionary<string, string>();
        var flags = new HashSet<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected '{args[i]}'");
            if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) map[args[i]] = args[++i];
            else flags.Add(args[i]);
        }
        var known = new HashSet<string>
        {
            "--pg-port", "--pg-data", "--node-dll", "--out", "--quick", "--node-port", "--partitions", "--hocon", "--node-server-gc", "--task-history",
            "--producers", "--workers", "--payload", "--batch", "--claim", "--baseline-poll-ms", "--drain-backlog", "--queues", "--only",
            "--queues-large", "--sustained", "--no-pipeline", "--trickle",
        };
        if (map.Keys.Concat(flags).FirstOrDefault(k => !known.Contains(k)) is { } unknown)
            throw new ArgumentException($"unknown option '{unknown}'; options: {string.Join(", ", known.Order())}");
        string Need(string k) => map.TryGetValue(k, out var v) ? v : throw new ArgumentException($"{k} is required");
        int Int(string k, int d) => map.TryGetValue(k, out var v) ? int.Parse(v) : d;
        return new BenchConfig
        {
            PgPort = int.Parse(Need("--pg-port")),
            PgDataDir = Need("--pg-data"),
            NodeDll = Need("--node-dll"),
            OutDir = map.GetValueOrDefault("--out") ?? "bench/results",
            Quick = flags.Contains("--quick"),
            NodePort = Int("--node-port", 0),
            Partitions = Int("--partitions", 1),
            NodeHocon = map.GetValueOrDefault("--hocon"),
            NodeServerGc = flags.Contains("--node-server-gc"),
            TaskHistory = flags.Contains("--task-history"),
            Producers = Int("--producers", 8),
            Workers = Int("--workers", 8),
            PayloadBytes = Int("--payload", 100),
            EnqueueBatch = Int("--batch", 100),
            ClaimSize = Int("--claim", 50),
            BaselinePollInterval = TimeSpan.FromMilliseconds(Int("--baseline-poll-ms", 50)),
            Pipeline = !flags.Contains("--no-pipeline"),
            DrainBacklogOverride = map.TryGetValue("--drain-backlog", out var db) ? int.Parse(db) : null,
            ManyQueuesOverride = map.TryGetValue("--queues", out var nq) ? int.Parse(nq) : null,
            LargeQueuesOverride = map.TryGetValue("--queues-large", out var nl) ? int.Parse(nl) : null,
            SustainedSecondsOverride = map.TryGetValue("--sustained", out var ss) ? int.Parse(ss) : null,
            TrickleSecondsOverride = map.TryGetValue("--trickle", out var ts) ? int.Parse(ts) : null,
            Only = map.TryGetValue("--only", out var only) ? only.Split(',').ToHashSet() : [],
        };
    }
}
