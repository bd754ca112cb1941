using Akka.Actor;

namespace Conduit.Protocol.Serialization;

/// <summary>Serializer for <see cref="IConduitMessage"/>: commands, replies, the partition envelope and the management protocol.</summary>
public sealed class ProtocolSerializer(ExtendedActorSystem system) : MemoryPackSerializerBase(system, Registrations)
{
    public const int SerializerId = 4101;
    public override int Identifier => SerializerId;

    /// <summary>Manifests are part of the wire format: never change or reuse one.</summary>
    public static readonly (string, Type)[] Registrations =
    [
        ("env", typeof(PartitionEnvelope)),
        ("enq", typeof(Enqueue)),
        ("enqb", typeof(EnqueueBatch)),
        ("poll", typeof(Poll)),
        ("hb", typeof(Heartbeat)),
        ("done", typeof(Complete)),
        ("fail", typeof(Fail)),
        ("cancel", typeof(CancelTask)),
        ("get", typeof(GetTask)),
        ("stats?", typeof(GetQueueStats)),
        ("pause", typeof(PauseQueue)),
        ("resume", typeof(ResumeQueue)),
        ("purge", typeof(PurgeQueue)),
        ("dlq?", typeof(ListDeadLetters)),
        ("dlq-requeue", typeof(RequeueDeadLetters)),
        ("rej", typeof(Rejected)),
        ("enq!", typeof(Enqueued)),
        ("enqb!", typeof(EnqueuedBatch)),
        ("enqb~", typeof(BatchPartlyEnqueued)),
        ("poll!", typeof(Polled)),
        ("hb!", typeof(HeartbeatAck)),
        ("done!", typeof(Completed)),
        ("fail!", typeof(Failed)),
        ("cancel!", typeof(Cancelled)),
        ("task", typeof(TaskInfo)),
        ("stats", typeof(QueueStats)),
        ("qstate", typeof(QueueStateChanged)),
        ("purge!", typeof(QueuePurged)),
        ("dlq", typeof(DeadLetters)),
        ("dlq-requeue!", typeof(DeadLettersRequeued)),
        ("poll-cancel", typeof(CancelPoll)),
        ("release", typeof(ReleaseTasks)),
        ("release!", typeof(Released)),
        ("load", typeof(PartitionLoad)),
        ("limits", typeof(SetQueueLimits)),
        ("limits!", typeof(QueueLimitsChanged)),
        ("m:cluster?", typeof(GetClusterState)),
        ("m:cluster", typeof(ClusterState)),
        ("m:member", typeof(ChangeMembership)),
        ("m:member!", typeof(MembershipChangeStarted)),
        ("m:sharding?", typeof(GetShardingStats)),
        ("m:sharding", typeof(ShardingStats)),
        ("m:local?", typeof(GetLocalPartitions)),
        ("m:local", typeof(LocalPartitions)),
        ("m:queues?", typeof(ListQueues)),
        ("m:queues", typeof(QueueList)),
        ("m:op", typeof(OperatorRequest)),
        ("done*!", typeof(CompletedBatch)),
        ("keyed", typeof(KeyedRequest)),
        ("nodeload", typeof(NodeLoad)),
        ("s:put", typeof(PutSchedule)),
        ("s:get", typeof(GetSchedule)),
        ("s:pause", typeof(PauseSchedule)),
        ("s:resume", typeof(ResumeSchedule)),
        ("s:delete", typeof(DeleteSchedule)),
        ("s:trigger", typeof(TriggerSchedule)),
        ("s:list?", typeof(ListSchedules)),
        ("s:info", typeof(ScheduleInfo)),
        ("s:list", typeof(ScheduleList)),
        ("s:delete!", typeof(ScheduleDeleted)),
        ("s:trigger!", typeof(ScheduleTriggered)),
        ("s:local?", typeof(GetLocalSchedules)),
        ("s:local", typeof(LocalSchedules)),
    ];
}
