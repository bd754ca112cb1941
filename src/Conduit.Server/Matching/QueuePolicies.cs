using System.Collections.Concurrent;
using Conduit.Server.Configuration;

namespace Conduit.Server.Matching;

/// <summary>
/// The effective <see cref="PartitionOptions"/> of each queue: the node's options with the queue's overrides applied,
/// its <c>q</c> entry first and then its <c>ns/q</c> entry (which wins, field by field), the same key rules as per-queue
/// partition counts (<see cref="Frontend.QueueTopology"/>). Partitions get theirs when they start; frontends check a
/// request against the queue's limits (its payload cap) before routing it. Every node must agree.
/// </summary>
public sealed class QueuePolicies
{
    private readonly PartitionOptions _defaults;
    private readonly IReadOnlyDictionary<string, QueueOverrides> _overrides;
    private readonly ConcurrentDictionary<(string Ns, string Queue), PartitionOptions> _resolved = new();

    public QueuePolicies(PartitionOptions defaults, IReadOnlyDictionary<string, QueueOverrides>? overrides = null)
    {
        _defaults = defaults;
        _overrides = overrides ?? new Dictionary<string, QueueOverrides>();
    }

    /// <summary>The node's options, for queues with no overrides.</summary>
    public PartitionOptions Defaults => _defaults;

    /// <summary>The options of queue <paramref name="queue"/> in namespace <paramref name="ns"/>.</summary>
    public PartitionOptions For(string ns, string queue)
    {
        // Only queues named in the overrides are cached: any client can name new queues, so the cache stays bounded.
        if (_overrides.Count == 0 || (!_overrides.ContainsKey(queue) && !_overrides.ContainsKey($"{ns}/{queue}"))) return _defaults;
        return _resolved.GetOrAdd((ns, queue), key =>
        {
            var options = _defaults;
            if (_overrides.TryGetValue(key.Queue, out var forQueue)) options = forQueue.ApplyTo(options);
            if (_overrides.TryGetValue($"{key.Ns}/{key.Queue}", out var forNamespaced)) options = forNamespaced.ApplyTo(options);
            return options;
        });
    }

    /// <summary>The options of the partition's queue.</summary>
    public PartitionOptions For(PartitionId id) => For(id.Namespace, id.Queue);
}
