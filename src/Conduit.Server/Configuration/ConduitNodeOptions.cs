using Conduit.Server.Gateway;
using Conduit.Server.Hosting;
using Conduit.Server.Matching;

namespace Conduit.Server.Configuration;

/// <summary>
/// Every option of a node, as configuration holds them: the <c>Conduit</c> section of <c>appsettings.json</c>,
/// <c>CONDUIT__…</c> environment variables, and the command line's flags (<see cref="NodeConfiguration"/> binds them, in
/// that order of precedence: flags, environment, <c>appsettings.json</c>, these defaults). Sections are options classes of
/// their own (<see cref="Tls"/>, <see cref="Logging"/>, <see cref="Partition"/>, <see cref="Gateway"/>, <see cref="Connections"/>, <see cref="Queues"/>):
/// a new feature adds one class and one property here. <see cref="NodeSettingsFactory"/> checks them and turns them into
/// the <see cref="NodeSettings"/> the node runs with. docs/configuration.md lists them all.
/// </summary>
public sealed record ConduitNodeOptions
{
    /// <summary>The configuration section that holds these options.</summary>
    public const string SectionName = "Conduit";
    public const string DefaultDataDirectory = "./data";
    public const int DefaultPartitions = 1;
    public const int MaxPartitions = 1024;

    /// <summary>Port of the client endpoint (clients and the CLI); 0 picks a free one. Defaults to 4053 (<see cref="NodeSettings.DefaultPort"/>).</summary>
    [Flag("--port", "N", "client port: clients and the CLI (0: a free one)"), DeprecatedEnvironmentName("CONDUIT_PORT")]
    public int Port { get; init; } = NodeSettings.DefaultPort;

    /// <summary>Port of the cluster endpoint (other nodes only); 0 picks a free one. Defaults to 5053 (<see cref="NodeSettings.DefaultClusterPort"/>).</summary>
    [Flag("--cluster-port", "N", "cluster port: other nodes only (0: a free one)"), DeprecatedEnvironmentName("CONDUIT_CLUSTER_PORT")]
    public int ClusterPort { get; init; } = NodeSettings.DefaultClusterPort;

    /// <summary>Address to bind and advertise, for both ports. Defaults to 127.0.0.1 (<see cref="NodeSettings.DefaultHost"/>).</summary>
    [Flag("--host", "ADDR", "address to bind and advertise; not loopback: needs TLS or --insecure"), DeprecatedEnvironmentName("CONDUIT_HOST")]
    public string Host { get; init; } = NodeSettings.DefaultHost;

    /// <summary>SQLite data directory (file <c>conduit.db</c>), when <see cref="Postgres"/> is not set. Defaults to <c>./data</c>.</summary>
    [Flag("--data", "DIR", "SQLite data directory"), DeprecatedEnvironmentName("CONDUIT_DATA")]
    public string Data { get; init; } = DefaultDataDirectory;

    /// <summary>PostgreSQL connection string (Npgsql); set, it is used instead of SQLite. Defaults to none.</summary>
    [Flag("--postgres", "CONN", "use PostgreSQL (Npgsql connection string) instead of SQLite"), DeprecatedEnvironmentName("CONDUIT_POSTGRES")]
    public string? Postgres { get; init; }

    /// <summary>Roles of this node: <c>frontend</c> and/or <c>taskservice</c> (comma-separated in a flag or variable). Defaults to both.</summary>
    [Flag("--roles", "a,b", "frontend and/or taskservice"), DeprecatedEnvironmentName("CONDUIT_ROLES")]
    public IReadOnlyList<string> Roles { get; init; } = [ConduitServerOptions.FrontendRole, ConduitServerOptions.TaskServiceRole];

    /// <summary>
    /// Seed nodes, by their cluster port (<c>akka.tcp://conduit-cluster@host:5053</c>; <c>akka.ssl.tcp://</c> with TLS),
    /// comma-separated in a variable. Defaults to none: the node forms a cluster of its own.
    /// </summary>
    [Flag("--seed", "ADDR", "a seed node by its cluster port, akka.tcp://" + WireNames.ClusterSystemName + "@host:port; repeatable", Repeatable = true), DeprecatedEnvironmentName("CONDUIT_SEEDS")]
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary>Without <see cref="Seeds"/>, join itself and form a one-node cluster; false waits for <c>conduit cluster join</c>. Defaults to true.</summary>
    public bool FormClusterAlone { get; init; } = true;

    /// <summary>Partitions per queue, 1..1024; every node must agree. Defaults to 1 (a single node); use 4 on a cluster.</summary>
    [Flag("--partitions", "N", "partitions per queue (use 4 on a cluster; every node must agree)"), DeprecatedEnvironmentName("CONDUIT_PARTITIONS")]
    public int Partitions { get; init; } = DefaultPartitions;

    /// <summary>
    /// Partition counts of particular queues: <c>q=N</c> for queue <c>q</c> of every namespace, <c>ns/q=N</c> for one
    /// namespace's (wins over <c>q=N</c>); a comma-separated list in a flag or variable, or a map in appsettings.json.
    /// Defaults to none.
    /// </summary>
    [Flag("--queue-partitions", "q=N[,ns/q=N]", "partitions of particular queues (q: every namespace; ns/q: one)"), DeprecatedEnvironmentName("CONDUIT_QUEUE_PARTITIONS")]
    public IReadOnlyDictionary<string, int> QueuePartitions { get; init; } = new Dictionary<string, int>();

    /// <summary>Most queue partitions this node runs at once; past it a new one is refused with QuotaExceeded. Defaults to 100,000.</summary>
    [Flag("--max-live-partitions", "N", "most queue partitions this node runs at once"), DeprecatedEnvironmentName("CONDUIT_MAX_LIVE_PARTITIONS")]
    public int MaxLivePartitions { get; init; } = ConduitServerOptions.DefaultMaxLivePartitionsPerNode;

    /// <summary>Most schedules one namespace may have; creating one more is refused with QuotaExceeded. Defaults to 1,000.</summary>
    [Flag("--max-schedules-per-namespace", "N", "most schedules one namespace may have")]
    public int MaxSchedulesPerNamespace { get; init; } = ConduitServerOptions.DefaultMaxSchedulesPerNamespace;

    /// <summary>
    /// How long the task history keeps a task's payload, result and attempts after its last change, in hours (fractions
    /// allowed); 0 keeps no history (docs/results.md). Defaults to 24.
    /// </summary>
    [Flag("--task-history-hours", "H", "how long task results and attempts are kept (0: no task history)")]
    public double TaskHistoryHours { get; init; } = History.TaskHistoryOptions.DefaultRetentionMs / 3_600_000.0;

    /// <summary>Shards the partitions are spread over; every node must agree. Defaults to 100.</summary>
    public int MaxShards { get; init; } = ConduitServerOptions.DefaultMaxShards;

    /// <summary>In a busy system a poll asks one partition at a time for this long before moving on. Defaults to 200 ms.</summary>
    public long PollProbeMs { get; init; } = ConduitServerOptions.DefaultPollProbeMs;

    /// <summary>A HOCON file applied over the defaults (examples in <c>hocon/</c>). Defaults to none.</summary>
    [Flag("--hocon", "FILE", "extra HOCON applied over the defaults"), DeprecatedEnvironmentName("CONDUIT_HOCON")]
    public string? Hocon { get; init; }

    /// <summary>The API keys file (docs/credentials.md). Defaults to none: auth off, everyone may do everything.</summary>
    [Flag("--keys", "FILE.json", "API keys and their roles (default: none, auth off)"), DeprecatedEnvironmentName("CONDUIT_KEYS")]
    public string? Keys { get; init; }

    /// <summary>Allow plain TCP on a host that is not loopback (a trusted network only). Defaults to false.</summary>
    [Flag("--insecure", "", "allow plain TCP on a host that is not loopback"), DeprecatedEnvironmentName("CONDUIT_INSECURE")]
    public bool Insecure { get; init; }

    /// <summary>Mutual TLS on both ports (docs/tls.md).</summary>
    public NodeTlsOptions Tls { get; init; } = new();

    /// <summary>The HTTP listener: health probes and the dashboard.</summary>
    public Http.NodeHttpOptions Http { get; init; } = new();

    /// <summary>Metrics: the queue label limit and an optional OTLP push (docs/metrics.md).</summary>
    public Metrics.MetricsOptions Metrics { get; init; } = new();

    /// <summary>How the node writes its log.</summary>
    public NodeLoggingOptions Logging { get; init; } = new();

    /// <summary>Policy of every queue partition (lease, retries, limits, snapshots, timers); per queue, <see cref="Queues"/> overrides some of it.</summary>
    public PartitionOptions Partition { get; init; } = new();

    /// <summary>Bounds on the requests the client endpoint lets into the cluster at once.</summary>
    public GatewayOptions Gateway { get; init; } = new();

    /// <summary>How many TCP connections each port holds open at once, in all and from one IP address.</summary>
    public Remoting.ConnectionOptions Connections { get; init; } = new();

    /// <summary>
    /// Per-queue overrides of <see cref="Partition"/>'s lease, retry, attempts and payload options, keyed like
    /// <see cref="QueuePartitions"/>: <c>q</c> (every namespace) or <c>ns/q</c> (one namespace; wins over <c>q</c>, field by
    /// field). Every node must agree. Defaults to none.
    /// </summary>
    public IReadOnlyDictionary<string, QueueOverrides> Queues { get; init; } = new Dictionary<string, QueueOverrides>();
}

/// <summary>The node's certificate and CA: with both, mutual TLS on every remoting link (docs/tls.md).</summary>
public sealed record NodeTlsOptions
{
    /// <summary>This node's certificate and key (.pfx, OU=conduit-node). Defaults to none: plain TCP.</summary>
    [Flag("--tls-cert", "FILE.pfx", "this node's certificate and key; with --tls-ca, mutual TLS"), DeprecatedEnvironmentName("CONDUIT_TLS_CERT")]
    public string? Cert { get; init; }

    /// <summary>Password of the .pfx. Defaults to none.</summary>
    [Flag("--tls-cert-password", "P", "password of the .pfx"), DeprecatedEnvironmentName("CONDUIT_TLS_CERT_PASSWORD")]
    public string? CertPassword { get; init; }

    /// <summary>The Conduit CA (PEM) every peer must chain to. Defaults to none.</summary>
    [Flag("--tls-ca", "FILE.pem", "the Conduit CA every peer must chain to"), DeprecatedEnvironmentName("CONDUIT_TLS_CA")]
    public string? Ca { get; init; }
}

/// <summary>Format of the node's log lines on stdout.</summary>
public enum LogFormat
{
    /// <summary>Microsoft.Extensions.Logging's simple console format, for people.</summary>
    Text,
    /// <summary>One JSON object per line (Microsoft.Extensions.Logging's JSON console formatter), for log shippers.</summary>
    Json,
}

/// <summary>How the node logs. Levels and filters are the standard <c>Logging</c> section of Microsoft.Extensions.Logging.</summary>
public sealed record NodeLoggingOptions
{
    public const LogFormat DefaultFormat = LogFormat.Text;

    /// <summary><c>text</c> or <c>json</c> (one JSON object a line). Defaults to text.</summary>
    [Flag("--log-format", "text|json", "log lines as text or one JSON object a line")]
    public LogFormat Format { get; init; } = DefaultFormat;
}
