namespace Conduit.Server.Matching;

/// <summary>
/// How many partitions run on this node. The entity factory admits a partition (counting it in at once, so a burst of
/// starts cannot overshoot the limit); the partition counts itself out when it stops, and in again after a restart.
/// </summary>
public sealed class PartitionCensus
{
    private int _live;

    public int Live => Volatile.Read(ref _live);

    /// <summary>Counts one more partition in, unless <paramref name="limit"/> are running already.</summary>
    internal bool TryAdmit(int limit)
    {
        while (true)
        {
            var live = Volatile.Read(ref _live);
            if (live >= limit) return false;
            if (Interlocked.CompareExchange(ref _live, live + 1, live) == live) return true;
        }
    }

    internal void Started() => Interlocked.Increment(ref _live);
    internal void Stopped() => Interlocked.Decrement(ref _live);
}
