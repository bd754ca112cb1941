namespace Conduit.Protocol;

/// <summary>
/// Marker for everything that crosses the wire between clients, frontends and partitions.
/// Bound to <see cref="Serialization.ProtocolSerializer"/>; Akka's default JSON is never used for these.
/// </summary>
public interface IConduitMessage;

/// <summary>A request that one queue partition answers. The frontend wraps it in a <see cref="PartitionEnvelope"/>.</summary>
[MemoryPackable]
[MemoryPackUnion(0, typeof(Enqueue))]
[MemoryPackUnion(1, typeof(EnqueueBatch))]
[MemoryPackUnion(2, typeof(Poll))]
[MemoryPackUnion(3, typeof(Heartbeat))]
[MemoryPackUnion(4, typeof(Complete))]
[MemoryPackUnion(5, typeof(Fail))]
[MemoryPackUnion(6, typeof(CancelTask))]
[MemoryPackUnion(7, typeof(GetTask))]
[MemoryPackUnion(8, typeof(GetQueueStats))]
[MemoryPackUnion(9, typeof(PauseQueue))]
[MemoryPackUnion(10, typeof(ResumeQueue))]
[MemoryPackUnion(11, typeof(PurgeQueue))]
[MemoryPackUnion(12, typeof(ListDeadLetters))]
[MemoryPackUnion(13, typeof(RequeueDeadLetters))]
[MemoryPackUnion(14, typeof(CancelPoll))]
[MemoryPackUnion(15, typeof(ReleaseTasks))]
[MemoryPackUnion(16, typeof(SetQueueLimits))]
[MemoryPackUnion(17, typeof(ListTasks))]
public partial interface IPartitionRequest : IClientRequest;

/// <summary>Routes a request to partition <paramref name="PartitionId"/> (entity id <c>ns/queue#index</c>).</summary>
[MemoryPackable]
public sealed partial record PartitionEnvelope(string PartitionId, IPartitionRequest Request) : IConduitMessage;
