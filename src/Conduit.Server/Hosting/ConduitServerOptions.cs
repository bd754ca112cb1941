using Conduit.Server.Frontend;
using Conduit.Server.Matching;

namespace Conduit.Server.Hosting;

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
