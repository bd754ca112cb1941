namespace Conduit.Protocol;

// The management protocol: what the `conduit` CLI (or any operator tool) asks a node's management actor
// (/user/management on the client endpoint of every node), and its answers.
// Refusals are Rejected(ErrorCode, Message), as for queue requests.

/// <summary>Who asked for an operator action: logged on the node for destructive ones.</summary>
[MemoryPackable]
public sealed partial record Requester(string User, string Host)
{
    public static Requester Unknown { get; } = new("unknown", "unknown");
    public override string ToString() => $"{User}@{Host}";
}

/// <summary>Marker for requests the management actor answers.</summary>
public interface IManagementRequest : IClientRequest;

/// <summary>Answered with <see cref="ClusterState"/>: the members as the answering node sees them.</summary>
[MemoryPackable] public sealed partial record GetClusterState() : IManagementRequest;

/// <param name="Status">Akka's member status: Joining, WeaklyUp, Up, Leaving, Exiting, Down, Removed.</param>
/// <param name="Reachable">false when the failure detector of some member marks it unreachable.</param>
[MemoryPackable] public sealed partial record ClusterMember(string Address, string[] Roles, string Status, bool Reachable);

/// <param name="Self">The address of the node that answered.</param>
/// <param name="Leader">The leader's address, or null while there is none (e.g. the node has not joined a cluster).</param>
[MemoryPackable] public sealed partial record ClusterState(string Self, string? Leader, ClusterMember[] Members) : IConduitMessage;

public enum MembershipAction
{
    /// <summary>The member leaves gracefully: its shards hand over, then it is removed and stops.</summary>
    Leave = 1,
    /// <summary>The member is marked down (use for a node that is gone); the cluster moves on without it.</summary>
    Down = 2,
    /// <summary>The answering node joins the cluster of the given address.</summary>
    Join = 3,
}

/// <summary>Answered with <see cref="MembershipChangeStarted"/> once the cluster has been told; the change itself completes asynchronously.</summary>
/// <param name="Address">A member address, <c>akka.tcp://conduit@host:port</c>.</param>
[MemoryPackable] public sealed partial record ChangeMembership(MembershipAction Action, string Address, Requester By) : IManagementRequest;
[MemoryPackable] public sealed partial record MembershipChangeStarted(MembershipAction Action, string Address) : IConduitMessage;

/// <summary>Answered with <see cref="ShardingStats"/> for the partitions' shard region, across the cluster.</summary>
[MemoryPackable] public sealed partial record GetShardingStats() : IManagementRequest;
[MemoryPackable] public sealed partial record ShardEntities(string ShardId, int Entities);
/// <param name="Node">Address of the node hosting the region.</param>
/// <param name="Region">The sharded entity type name (<c>partitions</c>).</param>
[MemoryPackable] public sealed partial record RegionShards(string Node, string Region, ShardEntities[] Shards);
/// <param name="Unanswered">Nodes whose region did not answer in time.</param>
[MemoryPackable] public sealed partial record ShardingStats(RegionShards[] Regions, string[] Unanswered) : IConduitMessage;

/// <summary>Node to node: the partition entity ids (<c>ns/queue#p</c>) the answering node hosts now.</summary>
[MemoryPackable] public sealed partial record GetLocalPartitions() : IManagementRequest;
/// <param name="Truncated">The node hosts more partitions than fit in one reply; these are the first by id.</param>
[MemoryPackable] public sealed partial record LocalPartitions(string Node, string[] EntityIds, bool Truncated = false) : IConduitMessage;

/// <summary>
/// Answered with <see cref="QueueList"/>: every queue (of every namespace) with a partition running somewhere in the
/// cluster, with its stats (<see cref="QueueStats.Namespace"/> names its namespace).
/// Queues whose partitions are not running (never used since the cluster started) are not listed.
/// </summary>
[MemoryPackable] public sealed partial record ListQueues() : IManagementRequest;
/// <param name="Unanswered">Queues (or nodes) that did not answer in time.</param>
/// <param name="More">More queues run than are listed (at most <see cref="MaxQueues"/>, the first by namespace, then name).</param>
[MemoryPackable]
public sealed partial record QueueList(QueueStats[] Queues, string[] Unanswered, bool More = false) : IConduitMessage
{
    public const int MaxQueues = 1000;
}

/// <summary>
/// A queue request made by an operator: the management actor logs destructive ones (purge, dead-letter requeue)
/// with <paramref name="By"/> and answers with the queue's own reply. It goes to the queue of the request's own namespace.
/// </summary>
[MemoryPackable] public sealed partial record OperatorRequest(IPartitionRequest Request, Requester By) : IManagementRequest;
