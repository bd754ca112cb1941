namespace Conduit.Server.Gossip;

/// <summary>A frontend's local copy of the partitions' gossiped load, and the routing choices made from it.</summary>
public sealed class LoadView
{
    private Dictionary<string, (long Ready, int Pollers, long AtUnixMs)> _loads = new();
    private readonly Random _random;

    /// <param name="random">Draws the choices of <see cref="ForEnqueue"/>; a seeded one makes tests repeatable.</param>
    public LoadView(Random? random = null) => _random = random ?? new Random();

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
    /// Where an enqueue should go, by two random choices: of two partitions drawn at random (possibly the same one), the
    /// better by gossiped load wins; a partition with waiting pollers (matched at once) before an idle one, an idle one
    /// before one with a backlog, the smaller backlog first; a tie goes to the first drawn. The view is up to a gossip
    /// interval old, so taking the best partition outright would send every enqueue of that interval to one partition
    /// (a herd that left a recovered partition without work for 20 s after an outage). With two choices a partition
    /// gets <c>(a + b)/n²</c> of a queue's enqueues, where <c>a</c> partitions score no better than it (itself
    /// included) and <c>b</c> score worse: at least <c>1/n²</c> whatever the view says, <c>1/n</c> each when all score
    /// the same, <c>(2n−1)/n²</c> (nearly twice its share) for one better than all the others. Both draws are random,
    /// not a round-robin turn: a turn shared by every queue of the frontend would alias (a producer alternating two
    /// queues would show each only every other partition), and one per queue would be state per queue.
    /// </summary>
    public int ForEnqueue(string ns, string queue, int partitions)
    {
        if (partitions <= 1) return 0;
        var first = _random.Next(partitions);
        var second = _random.Next(partitions);
        return Score(ns, queue, second) < Score(ns, queue, first) ? second : first;
    }

    /// <summary>Lower is a better place for an enqueue: minus the waiting pollers, else the backlog.</summary>
    private long Score(string ns, string queue, int partition)
    {
        var load = Of(ns, queue, partition);
        return load.Pollers > 0 ? -load.Pollers : load.Ready;
    }
}
