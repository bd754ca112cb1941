namespace Conduit.Server.Frontend;

/// <summary>
/// How many partitions each queue has, and so which partition ids exist. Built once from
/// <see cref="Hosting.ConduitServerOptions"/> and shared by everything that names a partition: the frontend that routes,
/// the management actor that fans out, the shard message extractor and the entity factory that refuse ids that name
/// no partition. Every node must agree on it (a partition outside it is never started).
/// A queue is named by its namespace and its name; a per-queue count given as <c>q</c> applies to queue <c>q</c> of
/// every namespace, one given as <c>ns/q</c> to that namespace's queue only (and wins over <c>q</c>).
/// </summary>
public sealed class QueueTopology
{
    private readonly IReadOnlyDictionary<string, int> _perQueue;

    /// <param name="perQueue">Partition counts by queue name (<c>q</c>: in every namespace) or by <c>ns/q</c> (in one namespace).</param>
    public QueueTopology(int defaultPartitions, IReadOnlyDictionary<string, int>? perQueue = null)
    {
        DefaultPartitions = Math.Max(1, defaultPartitions);
        _perQueue = perQueue ?? new Dictionary<string, int>();
    }

    /// <summary>Partitions of a queue not named in the per-queue counts.</summary>
    public int DefaultPartitions { get; }

    /// <summary>Whether any queue has more than one partition (then frontends route by gossiped load).</summary>
    public bool AnyMultiPartition => DefaultPartitions > 1 || _perQueue.Values.Any(n => n > 1);

    /// <summary>Partitions of queue <paramref name="queue"/> in namespace <paramref name="ns"/>: its <c>ns/q</c> count, else its <c>q</c> count, else the default.</summary>
    public int PartitionsOf(string ns, string queue) =>
        _perQueue.Count > 0 && (_perQueue.TryGetValue($"{ns}/{queue}", out var n) || _perQueue.TryGetValue(queue, out n))
            ? Math.Max(1, n)
            : DefaultPartitions;

    /// <summary>Whether <paramref name="id"/> names a partition that exists: a valid namespace and queue name, an index below the queue's count.</summary>
    public bool Contains(PartitionId id) =>
        NamespaceName.IsValid(id.Namespace) && QueueName.IsValid(id.Queue) && id.Index >= 0 && id.Index < PartitionsOf(id.Namespace, id.Queue);

    /// <summary>Whether <paramref name="key"/> can name per-queue partitions: a queue name, or <c>namespace/queue</c>.</summary>
    public static bool IsValidQueueKey(string? key)
    {
        if (key is null) return false;
        var slash = key.IndexOf('/');
        return slash < 0 ? QueueName.IsValid(key) : NamespaceName.IsValid(key[..slash]) && QueueName.IsValid(key[(slash + 1)..]);
    }

    /// <summary>The partition an entity id names, when it is one that exists.</summary>
    public bool TryResolve(string? entityId, out PartitionId id) => PartitionId.TryParse(entityId, out id) && Contains(id);
}
