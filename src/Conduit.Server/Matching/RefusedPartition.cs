using Akka.Actor;
using Akka.Cluster.Sharding;

namespace Conduit.Server.Matching;

/// <summary>
/// What the shard starts instead of a <see cref="QueuePartition"/> when it must not run one: the entity id names no
/// partition of the topology (sent straight to the shard region, or remembered from before), or the node already holds
/// its limit of live partitions. It answers every request with <see cref="Refusal"/>, writes nothing, and asks to be
/// passivated at once, so remember-entities forgets it and no restart loop can start.
/// </summary>
internal sealed class RefusedPartition : ReceiveActor
{
    public RefusedPartition(Rejected refusal)
    {
        Receive<IPartitionRequest>(_ => Sender.Tell(refusal));
        ReceiveAny(_ => { });
    }

    public static Props Props(Rejected refusal) => Akka.Actor.Props.Create(() => new RefusedPartition(refusal));

    protected override void PreStart() => Context.Parent.Tell(new Passivate(PoisonPill.Instance));
}
