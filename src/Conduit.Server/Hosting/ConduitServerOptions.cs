using Conduit.Server.Frontend;
using Conduit.Server.Matching;

namespace Conduit.Server.Hosting;

public enum StorageKind
{
    Sqlite,
    PostgreSql,
}

/// <summary>Where partitions keep their journal and snapshots.</summary>
public sealed record StorageOptions(StorageKind Kind, string ConnectionString)
{
    /// <summary>
    /// The connection string everything of the node uses (journal, snapshot store, task history, health check). For
    /// PostgreSQL, the one given with <see cref="PostgresDefaults"/> filled in where it leaves them out.
    /// </summary>
    public string ConnectionString { get; init; } = Kind == StorageKind.PostgreSql ? PostgresDefaults.Apply(ConnectionString) : ConnectionString;

    /// <summary>A SQLite file <c>conduit.db</c> in <paramref name="dataDirectory"/> (created when missing).</summary>
    public static StorageOptions Sqlite(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var file = Path.GetFullPath(Path.Combine(dataDirectory, "conduit.db"));
        return new StorageOptions(StorageKind.Sqlite, $"Data Source={file}");
    }

    public static StorageOptions Postgres(string connectionString) => new(StorageKind.PostgreSql, connectionString);

    /// <summary>
    /// Where the task history lives (docs/results.md): the same PostgreSQL database; for SQLite a file of its own beside
    /// the journal's (<c>conduit-history.db</c> next to <c>conduit.db</c>), since a SQLite file has one writer at a time
    /// and the history's transactions would hold up the journal's.
    /// </summary>
    public string HistoryConnectionString
    {
        get
        {
            if (Kind == StorageKind.PostgreSql) return ConnectionString;
            var builder = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString);
            var file = builder.DataSource;
            builder.DataSource = Path.Combine(Path.GetDirectoryName(file) ?? "", Path.GetFileNameWithoutExtension(file) + "-history" + Path.GetExtension(file));
            return builder.ConnectionString;
        }
    }

    public string Describe() => Kind == StorageKind.Sqlite
        ? $"SQLite {ConnectionString["Data Source=".Length..]}"
        : $"PostgreSQL {new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Password = null }}";
}

/// <summary>
/// Npgsql settings a node uses unless its connection string sets them (docs/configuration.md, "PostgreSQL connection").
/// Akka.Persistence.Sql sends the same few statements over and over: the journal's one-row INSERT, the recovery reads,
/// the snapshot store's; the task history its upsert.
/// </summary>
public static class PostgresDefaults
{
    /// <summary>
    /// <c>Max Auto Prepare</c>: Npgsql prepares a statement on a connection once it has run it 5 times, up to this many
    /// per connection, so PostgreSQL parses and plans it once instead of on every write. Npgsql's own default is 0 (off).
    /// One journal write then cost PostgreSQL a quarter less CPU (BENCHMARKS.md). 0 turns it off: needed behind a
    /// connection pooler in transaction mode that does not keep prepared statements (PgBouncer before 1.21).
    /// </summary>
    public const int MaxAutoPrepare = 20;

    /// <summary>
    /// <c>No Reset On Close</c>: a pooled connection is not reset (<c>DISCARD ALL</c>) when returned to the pool. The node
    /// keeps no session state on its connections (no <c>SET</c>, temporary tables or cursors; the one advisory lock,
    /// <see cref="History.TaskHistoryStore.EnsureListingIndexAsync"/>'s, is released on every path).
    /// </summary>
    public const bool NoResetOnClose = true;

    /// <summary><paramref name="connectionString"/> with every setting above that it does not name added.</summary>
    public static string Apply(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var named = Named(connectionString);
        if (!named.Contains("maxautoprepare")) builder.MaxAutoPrepare = MaxAutoPrepare;
        if (!named.Contains("noresetonclose")) builder.NoResetOnClose = NoResetOnClose;
        return builder.ConnectionString;
    }

    /// <summary>The keys <paramref name="connectionString"/> names, lower case without spaces (Npgsql accepts both spellings).</summary>
    private static HashSet<string> Named(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return given.Keys.Cast<string>().Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()).ToHashSet();
    }
}

/// <summary>What a Conduit node runs.</summary>
public sealed record ConduitServerOptions
{
    public const string FrontendRole = "frontend";
    public const string TaskServiceRole = "taskservice";

    /// <summary>Roles of this node. Defaults to both.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [FrontendRole, TaskServiceRole];
    /// <summary>Partitions per queue. Defaults to 1 (a single node); use 4 on a cluster. Every node must agree.</summary>
    public int PartitionsPerQueue { get; init; } = 1;
    /// <summary>
    /// Per-queue partition counts that differ from <see cref="PartitionsPerQueue"/>, keyed by queue name (<c>q</c>: that
    /// queue in every namespace) or by <c>ns/q</c> (in namespace <c>ns</c> only; wins over <c>q</c>). Every node must agree.
    /// Defaults to none.
    /// </summary>
    public IReadOnlyDictionary<string, int> QueuePartitions { get; init; } = new Dictionary<string, int>();
    /// <summary>Shards the partitions are spread over. Defaults to 100.</summary>
    public int MaxShards { get; init; } = DefaultMaxShards;
    public const int DefaultMaxShards = 100;
    public PartitionOptions Partition { get; init; } = new();
    /// <summary>Bounds on the requests the client endpoint lets into the cluster at once (backpressure at the edge). Defaults to <see cref="Gateway.GatewayOptions"/>' defaults.</summary>
    public Conduit.Server.Gateway.GatewayOptions Gateway { get; init; } = new();
    /// <summary>
    /// Most queue partitions one node runs at once; a request that would start one more is refused with
    /// <see cref="ErrorCode.QuotaExceeded"/> (idle partitions passivate and make room). Bounds what requests naming new queues
    /// can make a node hold in memory. Defaults to 100,000.
    /// </summary>
    public int MaxLivePartitionsPerNode { get; init; } = DefaultMaxLivePartitionsPerNode;
    public const int DefaultMaxLivePartitionsPerNode = 100_000;
    /// <summary>
    /// Most schedules one namespace may have; creating one more is refused with <see cref="ErrorCode.QuotaExceeded"/>
    /// (changing an existing one is not). Every schedule is a live entity with its own timer on some node, so this bounds
    /// what one tenant's operator can make the cluster run. Defaults to 1,000 (what one <see cref="ListSchedules"/> lists).
    /// </summary>
    public int MaxSchedulesPerNamespace { get; init; } = DefaultMaxSchedulesPerNamespace;
    /// <summary>The task history: results, payloads and attempts kept for a while (docs/results.md). Defaults to 24 h.</summary>
    public History.TaskHistoryOptions History { get; init; } = new();
    public const int DefaultMaxSchedulesPerNamespace = ScheduleList.MaxSchedules;
    /// <summary>In a busy system a poll asks one partition at a time for this long before moving on. Defaults to 200 ms.</summary>
    public long PollProbeMs { get; init; } = DefaultPollProbeMs;
    public const long DefaultPollProbeMs = 200;
    /// <summary>
    /// Per-queue overrides of <see cref="Partition"/> (lease, retries, attempts, payload cap), keyed like
    /// <see cref="QueuePartitions"/>. Defaults to none.
    /// </summary>
    public IReadOnlyDictionary<string, Configuration.QueueOverrides> Queues { get; init; } = new Dictionary<string, Configuration.QueueOverrides>();

    /// <summary>The effective partition options of each queue (<see cref="Partition"/> with <see cref="Queues"/>' overrides).</summary>
    public QueuePolicies Policies => new(Partition, Queues);

    /// <summary>The queues' partition counts (<see cref="PartitionsPerQueue"/>, <see cref="QueuePartitions"/>) as one object, shared by everything that names a partition.</summary>
    public QueueTopology Topology => new(PartitionsPerQueue, QueuePartitions);

    public bool IsFrontend => Roles.Contains(FrontendRole);
    public bool IsTaskService => Roles.Contains(TaskServiceRole);
}
