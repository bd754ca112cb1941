using Akka.Cluster.Sharding;

namespace Conduit.Server.Frontend;

/// <summary>Sharding routes a <see cref="PartitionEnvelope"/> to the partition entity it names and delivers the request inside.</summary>
public sealed class PartitionMessageExtractor(int maxShards) : HashCodeMessageExtractor(maxShards)
{
    public override string? EntityId(object message) => message switch
    {
        PartitionEnvelope envelope => envelope.PartitionId,
        _ => null,
    };

    public override object? EntityMessage(object message) => message is PartitionEnvelope envelope ? envelope.Request : message;
}
