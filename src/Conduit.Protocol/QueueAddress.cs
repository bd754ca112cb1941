namespace Conduit.Protocol;

/// <summary>
/// The namespace and queue a queue-addressed request names (<see cref="Enqueue"/>, <see cref="EnqueueBatch"/>,
/// <see cref="Poll"/>, <see cref="CancelPoll"/>, <see cref="GetQueueStats"/>, <see cref="PauseQueue"/>,
/// <see cref="ResumeQueue"/>, <see cref="PurgeQueue"/>, <see cref="ListDeadLetters"/>, <see cref="RequeueDeadLetters"/>,
/// <see cref="SetQueueLimits"/>, <see cref="ListTasks"/>).
/// A null namespace (what a client from before namespaces sends) is the default one. Requests that name a task id or
/// lease token instead have none: their namespace is in the id.
/// </summary>
public static class QueueAddress
{
    /// <summary>The request's namespace (never null) and queue (as sent, possibly invalid); null for a request that names no queue.</summary>
    public static (string Namespace, string? Queue)? Of(IPartitionRequest? request)
    {
        (string? ns, string? queue)? named = request switch
        {
            Enqueue r => (r.Namespace, r.Queue),
            EnqueueBatch r => (r.Namespace, r.Queue),
            Poll r => (r.Namespace, r.Queue),
            CancelPoll r => (r.Namespace, r.Queue),
            GetQueueStats r => (r.Namespace, r.Queue),
            PauseQueue r => (r.Namespace, r.Queue),
            SetQueueLimits r => (r.Namespace, r.Queue),
            ResumeQueue r => (r.Namespace, r.Queue),
            PurgeQueue r => (r.Namespace, r.Queue),
            ListDeadLetters r => (r.Namespace, r.Queue),
            RequeueDeadLetters r => (r.Namespace, r.Queue),
            ListTasks r => (r.Namespace, r.Queue),
            _ => null,
        };
        return named is { } n ? (NamespaceName.OrDefault(n.ns), n.queue) : null;
    }
}
