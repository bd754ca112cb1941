namespace Conduit.Server.Frontend;

/// <summary>
/// How many partitions each queue has, and so which partition ids exist. Built once from
/// <see cref="Hosting.ConduitServerOptions"/> and shared by everything that names a partition: the frontend that routes,
/// the management actor that fans out, the shard message extractor and the entity factory that refuse ids that name
/// no partition. Every node must agree on it (a partition outside it is never started).
/// </summary>
public sealed class QueueTopology
{
    private readonly IReadOnlyDictionary<string, int> _perQueue;

    public QueueTopology(int defaultPartitions, IReadOnlyDictionary<string, int>? perQueue = null)
    {
        DefaultPartitions = Math.Max(1, defaultPartitions);
        _perQueue = perQueue ?? new Dictionary<string, int>();
    }

    /// <summary>Partitions of a queue not named in the per-queue counts.</summary>
    public int DefaultPartitions { get; }

    /// <summary>Whether any queue has more than one partition (then frontends route by gossiped load).</summary>
    public bool AnyMultiPartition => DefaultPartitions > 1 || _perQueue.Values.Any(n => n > 1);

    public int PartitionsOf(string queue) => _perQueue.TryGetValue(queue, out var n) ? Math.Max(1, n) : DefaultPartitions;

    /// <summary>Whether <paramref name="id"/> names a partition that exists: the default namespace, a valid queue name, an index below the queue's count.</summary>
    public bool Contains(PartitionId id) =>
        id.Namespace == PartitionId.DefaultNamespace && QueueName.IsValid(id.Queue) && id.Index >= 0 && id.Index < PartitionsOf(id.Queue);

    /// <summary>The partition an entity id names, when it is one that exists.</summary>
    public bool TryResolve(string? entityId, out PartitionId id) => PartitionId.TryParse(entityId, out id) && Contains(id);
}
