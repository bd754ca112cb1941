namespace Conduit.Server.Security;

/// <summary>
/// The namespace a client request acts in, for <see cref="Permissions.Check"/>: from the task id or lease token it
/// carries, or from the queue it names; null for cluster-wide requests (cluster state, membership, sharding, the queue
/// list). Null is also the answer when the ids cannot tell (malformed, or lease tokens from different namespaces):
/// the check then asks for the role in every namespace, so an id that does not parse never widens what a key may do.
/// </summary>
internal static class RequestNamespace
{
    public static string? Of(IClientRequest request) => request switch
    {
        // A queue request acts in the namespace it names (none: default).
        Enqueue or EnqueueBatch or Poll or CancelPoll or GetQueueStats or PauseQueue or ResumeQueue or PurgeQueue
            or ListDeadLetters or RequeueDeadLetters or SetQueueLimits or ListTasks => QueueAddress.Of((IPartitionRequest)request)?.Namespace,
        GetTask get => OfTask(get.TaskId),
        CancelTask cancel => OfTask(cancel.TaskId),
        Heartbeat heartbeat => OfLeases([heartbeat.LeaseToken]),
        Complete complete => OfLeases([complete.LeaseToken, .. complete.MoreLeaseTokens ?? []]),
        Fail fail => OfLeases([fail.LeaseToken]),
        ReleaseTasks release => OfLeases(release.LeaseTokens ?? []),
        OperatorRequest op => op.Request is null ? null : Of(op.Request),
        IScheduleRequest schedule => NamespaceName.OrDefault(schedule.Namespace),
        ListSchedules list => NamespaceName.OrDefault(list.Namespace),
        GetClusterState or ChangeMembership or GetShardingStats or GetLocalPartitions or GetLocalSchedules or ListQueues => null,
        _ => null,
    };

    /// <summary>Whether <paramref name="request"/> acts on the cluster rather than in one namespace.</summary>
    public static bool IsClusterWide(IClientRequest request) =>
        request is GetClusterState or ChangeMembership or GetShardingStats or GetLocalPartitions or GetLocalSchedules or ListQueues;

    private static string? OfTask(string? taskId) => TaskId.TryParse(taskId, out var id) ? id.Partition.Namespace : null;

    private static string? OfLeases(string?[] tokens)
    {
        string? ns = null;
        foreach (var text in tokens)
        {
            if (!LeaseToken.TryParse(text, out var token)) return null;
            var tokenNamespace = token.Task.Partition.Namespace;
            if (ns is not null && ns != tokenNamespace) return null;
            ns = tokenNamespace;
        }
        return ns;
    }
}
