using Akka.Actor;

namespace Conduit.Protocol.Serialization;

/// <summary>Serializer for <see cref="IConduitMessage"/>: commands, replies and the partition envelope.</summary>
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
        ("done*!", typeof(CompletedBatch)),
    ];
}
