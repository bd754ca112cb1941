namespace Conduit.Server.Matching;

/// <summary>
/// Sent by sharding when a partition moves to another node (rebalance, graceful leave) or passivates: the partition
/// lets its writer finish what is outstanding, so the next owner recovers every decision, then stops.
/// </summary>
internal sealed class PartitionHandOff
{
    public static readonly PartitionHandOff Instance = new();
    private PartitionHandOff() { }
}
