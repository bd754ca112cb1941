namespace Conduit.Protocol;

/// <summary>
/// Everything a client or the CLI may ask a node's gateway: every <see cref="IPartitionRequest"/> and every
/// <see cref="IManagementRequest"/>, as one MemoryPack union so a <see cref="KeyedRequest"/> can carry any of them.
/// Tags 0-17 are the queue requests (the same tags as in <see cref="IPartitionRequest"/>), 64 and up the management
/// requests. Tags are part of the wire format: never change or reuse one. A new request type must be added here too
/// (a test enumerates this list and fails for a request type that is missing or has no permission rule).
/// </summary>
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
[MemoryPackUnion(64, typeof(GetClusterState))]
[MemoryPackUnion(65, typeof(ChangeMembership))]
[MemoryPackUnion(66, typeof(GetShardingStats))]
[MemoryPackUnion(67, typeof(GetLocalPartitions))]
[MemoryPackUnion(68, typeof(ListQueues))]
[MemoryPackUnion(69, typeof(OperatorRequest))]
[MemoryPackUnion(70, typeof(PutSchedule))]
[MemoryPackUnion(71, typeof(GetSchedule))]
[MemoryPackUnion(72, typeof(PauseSchedule))]
[MemoryPackUnion(73, typeof(ResumeSchedule))]
[MemoryPackUnion(74, typeof(DeleteSchedule))]
[MemoryPackUnion(75, typeof(TriggerSchedule))]
[MemoryPackUnion(76, typeof(ListSchedules))]
[MemoryPackUnion(77, typeof(GetLocalSchedules))]
public partial interface IClientRequest : IConduitMessage;

/// <summary>
/// What a client sends to a node's gateway (<c>/user/frontend</c> or <c>/user/management</c> on the client endpoint):
/// a request and the API key (<c>{id}.{secret}</c>, see <see cref="Security.ApiKey"/>) it is made with. The gateway
/// checks the key and the role it needs, then forwards <paramref name="Request"/>; a missing or wrong key, or a role
/// the key lacks, is answered with <c>Rejected(Unauthorized, …)</c>. On a node without a keys file any key (or an
/// empty one) is accepted.
/// </summary>
/// <param name="ApiKey">The whole key text; empty when the client has none. Never printed: see <see cref="ToString"/>.</param>
[MemoryPackable]
public sealed partial record KeyedRequest(string ApiKey, IClientRequest Request) : IConduitMessage
{
    /// <summary>The request and the key's id only: the secret must never reach a log line (Akka logs dead letters with ToString).</summary>
    public override string ToString() => $"KeyedRequest {{ Request = {Request}, Key = {Security.ApiKey.Describe(ApiKey)} }}";
}
