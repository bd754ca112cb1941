using System.Collections.Immutable;

namespace Conduit.Server.Gossip;

/// <summary>A frontend's local copy of the partitions' gossiped load, and the routing choices made from it.</summary>
public sealed class LoadView
{
    private IImmutableDictionary<string, PartitionLoad> _loads = ImmutableDictionary<string, PartitionLoad>.Empty;
    private long _turn;

    public void Update(IImmutableDictionary<string, PartitionLoad> loads) => _loads = loads;

    /// <summary>The gossiped load of one partition; keyed by its full entity id (<c>ns/queue#p</c>), so namespaces never mix.</summary>
    public PartitionLoad? Of(string ns, string queue, int partition) =>
        _loads.TryGetValue(new PartitionId(ns, queue, partition).EntityId, out var load) ? load : null;

    /// <summary>Partitions with ready work, most first: where a poll should go in a busy system.</summary>
    public List<int> BusiestFirst(string ns, string queue, int partitions) =>
        Enumerable.Range(0, partitions)
            .Select(p => (p, ready: Of(ns, queue, p)?.Ready ?? 0))
            .Where(x => x.ready > 0)
            .OrderByDescending(x => x.ready)
            .Select(x => x.p)
            .ToList();

    /// <summary>
    /// Where an enqueue should go: a partition with a waiting poller if there is one (so it is matched at once),
    /// otherwise the one with the smallest backlog; ties go round-robin.
    /// </summary>
    public int ForEnqueue(string ns, string queue, int partitions)
    {
        var start = (int)(_turn++ % partitions);
        int best = start;
        long bestScore = long.MaxValue;
        for (var i = 0; i < partitions; i++)
        {
            var p = (start + i) % partitions;
            var load = Of(ns, queue, p);
            var score = load is null ? 0 : load.Pollers > 0 ? -load.Pollers : load.Ready;
            if (score < bestScore) (best, bestScore) = (p, score);
        }
        return best;
    }
}
