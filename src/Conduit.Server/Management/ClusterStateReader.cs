using Akka.Cluster;

namespace Conduit.Server.Management;

/// <summary>Turns Akka's view of the cluster into the wire form of <see cref="ClusterState"/>.</summary>
public static class ClusterStateReader
{
    public static ClusterState Read(Cluster cluster)
    {
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var members = state.Members
            .Concat(state.Unreachable.Where(u => !state.Members.Contains(u)))
            .OrderBy(m => m.Address, Member.AddressOrdering)
            .Select(m => new ClusterMember(m.Address.ToString(), m.Roles.OrderBy(r => r, StringComparer.Ordinal).ToArray(),
                m.Status.ToString(), !unreachable.Contains(m.Address)))
            .ToArray();
        return new ClusterState(cluster.SelfAddress.ToString(), state.Leader?.ToString(), members);
    }

    /// <summary>True once this node is a member of a cluster (it has joined, or formed one by joining itself).</summary>
    public static bool HasJoined(Cluster cluster) =>
        cluster.State.Members.Any(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress) && m.Status != MemberStatus.Removed);
}
