namespace Conduit.Server.Gossip;

/// <summary>A frontend's local copy of the partitions' gossiped load, and the routing choices made from it.</summary>
public sealed class LoadView
{
    private Dictionary<string, (long Ready, int Pollers, long AtUnixMs)> _loads = new();
    private long _turn;

    /// <summary>
    /// Takes the nodes' gossiped entries (<see cref="LoadPublisher"/>): a partition listed by two nodes (it moved, and
    /// the old node's entry is not updated yet) counts as the newer entry says.
    /// </summary>
    public void Update(IEnumerable<NodeLoad> nodes)
    {
        var loads = new Dictionary<string, (long, int, long AtUnixMs)>();
        foreach (var node in nodes)
        {
            if (node is not { PartitionIds: { } ids, Ready: { } ready, Pollers: { } pollers }) continue;
            var n = Math.Min(ids.Length, Math.Min(ready.Length, pollers.Length));
            for (var i = 0; i < n; i++)
            {
                if (ids[i] is not { } id || (loads.TryGetValue(id, out var seen) && seen.AtUnixMs >= node.AtUnixMs)) continue;
                loads[id] = (ready[i], pollers[i], node.AtUnixMs);
            }
        }
        _loads = loads;
    }

    /// <summary>The gossiped load of one partition (ready tasks, waiting pollers); keyed by its full entity id (<c>ns/queue#p</c>), so namespaces never mix. None gossiped: no load.</summary>
    public (long Ready, int Pollers) Of(string ns, string queue, int partition) =>
        _loads.TryGetValue(new PartitionId(ns, queue, partition).EntityId, out var load) ? (load.Ready, load.Pollers) : (0, 0);

    /// <summary>Partitions with ready work, most first: where a poll should go in a busy system.</summary>
    public List<int> BusiestFirst(string ns, string queue, int partitions) =>
        Enumerable.Range(0, partitions)
            .Select(p => (p, ready: Of(ns, queue, p).Ready))
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
            var score = load.Pollers > 0 ? -load.Pollers : load.Ready;
            if (score < bestScore) (best, bestScore) = (p, score);
        }
        return best;
    }
}
