namespace Conduit.Protocol;

// Commands: what producers, workers and operators ask for. Every one is answered with its reply
// (see Replies.cs) or with Rejected(ErrorCode, Message).
//
// Namespaces: every request that names a queue also names its namespace, in a last parameter `Namespace` (defaults to
// "default"; null, what a client from before namespaces sends, means "default" too). A name that breaks the rule of
// NamespaceName is refused with InvalidNamespace. Requests that name a task id or lease token (Heartbeat, Complete,
// Fail, CancelTask, GetTask, ReleaseTasks) carry the namespace in the id (`ns/queue#p:seq`) and go to that namespace.

/// <summary>One task to enqueue.</summary>
/// <param name="Payload">Opaque bytes, 1 byte to <c>MaxPayloadBytes</c> (defaults to 256 KiB).</param>
/// <param name="Priority">0 (lowest) to 9 (highest). Higher priorities are dispatched first. Defaults to <see cref="TaskSpec.DefaultPriority"/>.</param>
/// <param name="DelayMs">Run no earlier than this many milliseconds from now. Ignored when <paramref name="RunAtUnixMs"/> is set.</param>
/// <param name="RunAtUnixMs">Run no earlier than this time (Unix milliseconds).</param>
/// <param name="IdempotencyKey">A repeated key returns the original task id, flagged as duplicate.</param>
/// <param name="MaxAttempts">Attempts before the task is dead-lettered. 0 means the queue default (10).</param>
/// <param name="ConcurrencyKey">
/// Tasks of a queue with the same key run at most <see cref="QueueLimits.MaxRunningPerKey"/> at once (docs/limits.md):
/// "one at a time per customer". All tasks of a key go to one partition. Without a per-key limit on the queue the key
/// only routes. 1 to 256 bytes (UTF-8).
/// </param>
[MemoryPackable]
public sealed partial record TaskSpec(
    byte[] Payload,
    Dictionary<string, string>? Headers = null,
    int Priority = TaskSpec.DefaultPriority,
    long DelayMs = 0,
    long? RunAtUnixMs = null,
    string? IdempotencyKey = null,
    int MaxAttempts = 0,
    string? ConcurrencyKey = null)
{
    public const int DefaultPriority = 5;
    public const int MinPriority = 0;
    public const int MaxPriority = 9;
}

[MemoryPackable] public sealed partial record Enqueue(string Queue, TaskSpec Task, string Namespace = PartitionId.DefaultNamespace) : IPartitionRequest;
[MemoryPackable] public sealed partial record EnqueueBatch(string Queue, TaskSpec[] Tasks, string Namespace = PartitionId.DefaultNamespace) : IPartitionRequest;

/// <summary>Long-poll: answered with up to <paramref name="MaxTasks"/> leased tasks, or an empty <see cref="Polled"/> shortly before <paramref name="WaitMs"/> runs out.</summary>
/// <param name="LeaseMs">Visibility timeout for the tasks handed out. 0 means the queue default (30 s).</param>
/// <param name="PollId">Set by a frontend that waits on several partitions at once, so it can withdraw the waits it no longer needs (<see cref="CancelPoll"/>).</param>
/// <param name="Worker">
/// Who polls, as the worker names itself (<see cref="WorkerName"/>; null: not said): kept with each delivery in the
/// task history and shown by <see cref="ListTasks"/> for running tasks.
/// </param>
[MemoryPackable] public sealed partial record Poll(string Queue, int MaxTasks, long WaitMs, long LeaseMs = 0, long PollId = 0, string Namespace = PartitionId.DefaultNamespace, string? Worker = null) : IPartitionRequest;

/// <summary>Withdraws a waiting poll; the partition answers it with an empty <see cref="Polled"/> at once if it still waits.</summary>
[MemoryPackable] public sealed partial record CancelPoll(string Queue, long PollId, string Namespace = PartitionId.DefaultNamespace) : IPartitionRequest;

/// <summary>Gives leased tasks back undelivered (a frontend got tasks for a poll another partition already answered). No attempt is used up.</summary>
[MemoryPackable] public sealed partial record ReleaseTasks(string[] LeaseTokens) : IPartitionRequest;

[MemoryPackable] public sealed partial record Heartbeat(string LeaseToken) : IPartitionRequest;
/// <summary>Completes the task of <paramref name="LeaseToken"/>; answered with <see cref="Completed"/>.</summary>
/// <param name="MoreLeaseTokens">
/// More leases to complete in the same request and the same journal write: a worker that polled a batch completes it
/// with one message instead of one per task. They must come from the same partition as <paramref name="LeaseToken"/>
/// (the tasks of one <see cref="Poll"/> always do). When given, the answer is <see cref="CompletedBatch"/>.
/// </param>
/// <param name="Output">
/// The task's result, 0 to <see cref="MaxOutputBytes"/> bytes, kept with its history for the node's retention
/// (docs/results.md) and returned by <see cref="GetTask"/>. A larger one refuses that completion.
/// </param>
/// <param name="MoreOutputs">The results of <paramref name="MoreLeaseTokens"/>, in their order (null, or shorter: no result for the rest).</param>
[MemoryPackable]
public sealed partial record Complete(string LeaseToken, string[]? MoreLeaseTokens = null, byte[]? Output = null, byte[]?[]? MoreOutputs = null) : IPartitionRequest
{
    /// <summary>Largest result one completion may carry: 64 KiB.</summary>
    public const int MaxOutputBytes = 64 * 1024;

    /// <summary>The result given for lease <paramref name="index"/> (0: <see cref="LeaseToken"/>, then <see cref="MoreLeaseTokens"/>), or null.</summary>
    public byte[]? OutputOf(int index) =>
        index == 0 ? Output : MoreOutputs is { } more && index - 1 < more.Length ? more[index - 1] : null;
}
/// <param name="Retryable">false sends the task to the dead-letter list at once.</param>
/// <param name="RetryDelayMs">
/// When the next attempt is due, from now, instead of the queue's backoff (0: the backoff; at most
/// <see cref="MaxRetryDelayMs"/>): a handler that was told "retry after 30 s" by an API says so.
/// </param>
[MemoryPackable]
public sealed partial record Fail(string LeaseToken, string Reason, bool Retryable = true, long RetryDelayMs = 0) : IPartitionRequest
{
    /// <summary>The longest retry delay a worker can ask for: 7 days.</summary>
    public const long MaxRetryDelayMs = 7L * 24 * 3600 * 1000;
}
[MemoryPackable] public sealed partial record CancelTask(string TaskId) : IPartitionRequest;
/// <summary>
/// The task's state; answered with <see cref="TaskInfo"/>. Its <see cref="TaskInfo.Details"/> (payload, result,
/// attempts) come from the node's task history when it keeps one (docs/results.md).
/// </summary>
[MemoryPackable] public sealed partial record GetTask(string TaskId) : IPartitionRequest;
[MemoryPackable] public sealed partial record GetQueueStats(string Queue, string Namespace = PartitionId.DefaultNamespace) : IPartitionRequest;
[MemoryPackable] public sealed partial record PauseQueue(string Queue, string Namespace = PartitionId.DefaultNamespace) : IPartitionRequest;
[MemoryPackable] public sealed partial record ResumeQueue(string Queue, string Namespace = PartitionId.DefaultNamespace) : IPartitionRequest;
/// <summary>
/// Replaces the queue's dispatch limits (docs/limits.md); answered with <see cref="QueueLimitsChanged"/> once every
/// partition has made them durable. <see cref="QueueLimits.None"/> lifts them. Operators only.
/// </summary>
[MemoryPackable] public sealed partial record SetQueueLimits(string Queue, QueueLimits Limits, string Namespace = PartitionId.DefaultNamespace) : IPartitionRequest;
[MemoryPackable] public sealed partial record PurgeQueue(string Queue, string Namespace = PartitionId.DefaultNamespace) : IPartitionRequest;
/// <summary>
/// Dead letters oldest first (by failure time, then task id), at most <paramref name="Limit"/> (1..10,000) and at most
/// what fits in one reply; <see cref="DeadLetters.More"/> says there are more. The next page starts after the last item
/// of this one: pass its <c>FailedAtUnixMs</c> and <c>TaskId</c> as <paramref name="AfterFailedAtUnixMs"/> and <paramref name="AfterTaskId"/>.
/// </summary>
[MemoryPackable] public sealed partial record ListDeadLetters(string Queue, int Limit = 100, long AfterFailedAtUnixMs = 0, string? AfterTaskId = null, string Namespace = PartitionId.DefaultNamespace) : IPartitionRequest
{
    public const int MaxLimit = 10_000;
}
/// <summary>
/// The tasks of a queue in one state, a page at a time; answered with <see cref="TaskList"/> (docs/results.md).
/// <list type="bullet">
/// <item>Scheduled, Ready, Running, Failed (waiting for a retry) and DeadLettered come from the partitions' memory, in
/// task id order (partition, then enqueue order). Ready lists what the partitions hold in memory: the tasks next in line
/// (up to the ready window of each partition) and tasks whose time has come; a backlog beyond that is counted by
/// <see cref="GetQueueStats"/> but not listed.</item>
/// <item>Completed and Cancelled come from the node's task history (kept for its retention), newest first; a node
/// without a history answers <see cref="ErrorCode.HistoryOff"/>.</item>
/// </list>
/// </summary>
/// <param name="Limit">1..<see cref="MaxLimit"/> tasks; fewer when a reply would grow past what one message carries.</param>
/// <param name="After">The <see cref="TaskList.Next"/> of the page before; null for the first page.</param>
[MemoryPackable]
public sealed partial record ListTasks(string Queue, TaskStatus State, int Limit = 100, string? After = null, string Namespace = PartitionId.DefaultNamespace) : IPartitionRequest
{
    public const int MaxLimit = 1000;
    /// <summary>Longest cursor accepted: a time, a separator and a task id.</summary>
    public const int MaxCursorLength = TaskId.MaxTextLength + 24;

    /// <summary>Whether <paramref name="state"/> is listed from the task history (settled tasks) rather than from the partitions.</summary>
    public static bool IsSettled(TaskStatus state) => state is TaskStatus.Completed or TaskStatus.Cancelled;
}
/// <param name="TaskIds">null requeues every dead letter of the queue.</param>
[MemoryPackable] public sealed partial record RequeueDeadLetters(string Queue, string[]? TaskIds = null, string Namespace = PartitionId.DefaultNamespace) : IPartitionRequest;
