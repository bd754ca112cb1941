namespace Conduit.Protocol;

/// <summary>Why a request was refused. The state of the queue is unchanged by a refused request.</summary>
public enum ErrorCode
{
    InvalidQueueName = 1,
    PayloadTooLarge = 2,
    InvalidArgument = 3,
    UnknownLease = 4,
    LeaseExpired = 5,
    TaskNotFound = 6,
    Overloaded = 7,
    /// <summary>
    /// Storage is down, or the partition is recovering or moving. For a write that had reached storage (the write failed,
    /// or its partition stopped while it was in flight) the outcome is unknown, as after a timeout: retry with an
    /// idempotency key to learn it. Every other refusal changed nothing.
    /// </summary>
    Unavailable = 8,
    Unauthorized = 9,
    /// <summary>A configured limit of the node is reached (live partitions per node); back off, or raise the limit.</summary>
    QuotaExceeded = 10,
    /// <summary>The namespace named by the request breaks the name rule (<see cref="NamespaceName"/>).</summary>
    InvalidNamespace = 11,
    /// <summary>No schedule of that name in that namespace (never created, or deleted).</summary>
    ScheduleNotFound = 12,
    /// <summary>The node keeps no task history (<c>--task-history-hours 0</c>): settled tasks cannot be listed.</summary>
    HistoryOff = 13,
}

/// <summary>Where a task is in its life.</summary>
public enum TaskStatus
{
    /// <summary>Waiting for its run-at time.</summary>
    Scheduled = 1,
    Ready = 2,
    Running = 3,
    Completed = 4,
    /// <summary>Failed (or its lease expired); waiting for its retry time.</summary>
    Failed = 5,
    DeadLettered = 6,
    Cancelled = 7,
}

[MemoryPackable] public sealed partial record Rejected(ErrorCode Code, string Message) : IConduitMessage
{
    public override string ToString() => $"{Code}: {Message}";
}

[MemoryPackable] public sealed partial record Enqueued(string TaskId, bool Duplicate) : IConduitMessage;
[MemoryPackable] public sealed partial record EnqueuedBatch(Enqueued[] Results) : IConduitMessage;
/// <summary>
/// The answer to an <see cref="EnqueueBatch"/> whose tasks went to more than one partition (idempotency keys pick
/// the partition) when some partitions enqueued their tasks and others refused or did not answer: which tasks are
/// durable and which are not. A batch that every partition refused is a plain <see cref="Rejected"/>.
/// </summary>
/// <param name="Results">One per task, in request order: the enqueued task, or null when <paramref name="Refusals"/> has why not.</param>
/// <param name="Refusals">One per task, in request order: null when the task was enqueued, otherwise why not. An
/// <see cref="ErrorCode.Unavailable"/> refusal (a partition that did not answer in time, or whose write failed) leaves that
/// task's fate unknown, as any request that times out does: retry with the same idempotency key to learn it.</param>
[MemoryPackable] public sealed partial record BatchPartlyEnqueued(Enqueued?[] Results, Rejected?[] Refusals) : IConduitMessage;

[MemoryPackable]
public sealed partial record LeasedTask(
    string TaskId,
    string LeaseToken,
    byte[] Payload,
    Dictionary<string, string>? Headers,
    int Priority,
    int Attempt,
    int MaxAttempts,
    long EnqueuedAtUnixMs,
    long LeaseExpiresAtUnixMs);

[MemoryPackable] public sealed partial record Polled(LeasedTask[] Tasks) : IConduitMessage;
[MemoryPackable] public sealed partial record HeartbeatAck(long LeaseExpiresAtUnixMs, bool CancelRequested) : IConduitMessage;
[MemoryPackable] public sealed partial record Completed(string TaskId) : IConduitMessage;
/// <summary>The answer to a <see cref="Complete"/> with more than one lease, after the write is durable.</summary>
/// <param name="Refusals">One per lease, in request order (<c>LeaseToken</c>, then <c>MoreLeaseTokens</c>): null when that task was completed, otherwise why not.</param>
[MemoryPackable] public sealed partial record CompletedBatch(Rejected?[] Refusals) : IConduitMessage;
/// <param name="Next">Failed (a retry is scheduled at <paramref name="RetryAtUnixMs"/>) or DeadLettered.</param>
[MemoryPackable] public sealed partial record Failed(string TaskId, TaskStatus Next, long RetryAtUnixMs) : IConduitMessage;
[MemoryPackable] public sealed partial record Cancelled(string TaskId) : IConduitMessage;

[MemoryPackable]
public sealed partial record TaskInfo(
    string TaskId,
    string Queue,
    TaskStatus Status,
    int Priority,
    int Attempt,
    int MaxAttempts,
    long RunAtUnixMs,
    string? LastError,
    string Namespace = PartitionId.DefaultNamespace,
    TaskDetails? Details = null) : IConduitMessage;

/// <summary>
/// What the task history keeps of a task (docs/results.md): its payload, its result, and its attempts, for the node's
/// retention after the task's last change. Null parts are not known: the history is off, the task has not started
/// yet (its payload is shown while it is in its partition's memory), or its history was trimmed.
/// </summary>
/// <param name="Output">The result its worker completed it with, if any.</param>
/// <param name="Attempts">Its deliveries, oldest first: at most <see cref="MaxAttempts"/> (the latest).</param>
/// <param name="FinishedAtUnixMs">When it was completed, dead-lettered or cancelled; 0 while it is not.</param>
/// <param name="Recorded">Whether the history has a record of the task at all.</param>
[MemoryPackable]
public sealed partial record TaskDetails(
    byte[]? Payload,
    byte[]? Output,
    TaskAttempt[] Attempts,
    long EnqueuedAtUnixMs,
    long FinishedAtUnixMs,
    bool Recorded)
{
    /// <summary>Most attempts listed: the latest 25.</summary>
    public const int MaxAttempts = 25;
}

public enum AttemptOutcome : byte
{
    /// <summary>Still running (or its end was not recorded: the node that ran it stopped).</summary>
    Running = 0,
    Completed = 1,
    /// <summary>The worker failed it; <see cref="TaskAttempt.Reason"/> says why.</summary>
    Failed = 2,
    /// <summary>Its lease ran out before the worker completed, failed or heartbeated it.</summary>
    Expired = 3,
    /// <summary>Cancelled while it ran.</summary>
    Cancelled = 4,
}

/// <summary>One delivery of a task to a worker.</summary>
/// <param name="Attempt">Delivery number, 1 for the first.</param>
/// <param name="EndedAtUnixMs">0 while it runs.</param>
/// <param name="Worker">The worker that took it, as it named itself in its <see cref="Poll"/> (null: not said, or not known after a failover).</param>
[MemoryPackable]
public sealed partial record TaskAttempt(int Attempt, long StartedAtUnixMs, long EndedAtUnixMs, AttemptOutcome Outcome, string? Reason, string? Worker = null);

/// <summary>One task in a <see cref="TaskList"/>.</summary>
/// <param name="Attempt">Deliveries so far (the running one included).</param>
/// <param name="AtUnixMs">
/// By state: Scheduled, when it is due; Failed, when it is retried; Ready, when it was enqueued; Running, when this
/// delivery started (0: not known after a failover); DeadLettered, when it failed; Completed and Cancelled, when they
/// were.
/// </param>
/// <param name="Reason">The last failure's reason (Failed, DeadLettered).</param>
/// <param name="Worker">The worker running it (Running; null when it did not say).</param>
[MemoryPackable]
public sealed partial record TaskSummary(string TaskId, TaskStatus Status, int Priority, int Attempt, long AtUnixMs, string? Reason = null, string? Worker = null)
{
    /// <summary>About how many bytes it takes in a reply.</summary>
    public int WireBytes => 48 + 3 * (TaskId.Length + (Reason?.Length ?? 0) + (Worker?.Length ?? 0));
}

/// <summary>A page of <see cref="ListTasks"/>.</summary>
/// <param name="Next">Pass as <see cref="ListTasks.After"/> for the next page; null when this page is the last.</param>
[MemoryPackable]
public sealed partial record TaskList(string Queue, TaskStatus State, TaskSummary[] Items, string? Next, string Namespace = PartitionId.DefaultNamespace) : IConduitMessage;

[MemoryPackable]
public sealed partial record QueueStats(
    string Queue,
    long Ready,
    long Delayed,
    long Running,
    long DeadLettered,
    long OldestReadyAgeMs,
    int WaitingPollers,
    bool Paused,
    int Partitions,
    string Namespace = PartitionId.DefaultNamespace,
    QueueLimits? Limits = null) : IConduitMessage;

[MemoryPackable] public sealed partial record QueueStateChanged(string Queue, bool Paused, string Namespace = PartitionId.DefaultNamespace) : IConduitMessage;
[MemoryPackable] public sealed partial record QueuePurged(string Queue, long Purged, string Namespace = PartitionId.DefaultNamespace) : IConduitMessage;
[MemoryPackable]
public sealed partial record DeadLetter(string TaskId, int Attempt, string? Reason, long FailedAtUnixMs)
{
    /// <summary>The order dead letters are listed in: failure time, then task id (ordinal).</summary>
    public static readonly Comparer<DeadLetter> Order = Comparer<DeadLetter>.Create((a, b) =>
    {
        var byTime = a.FailedAtUnixMs.CompareTo(b.FailedAtUnixMs);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.TaskId, b.TaskId);
    });

    /// <summary>Whether this item comes after the cursor of <paramref name="list"/> (always, without one).</summary>
    public bool IsAfter(ListDeadLetters list) =>
        list.AfterTaskId is null || FailedAtUnixMs > list.AfterFailedAtUnixMs
        || (FailedAtUnixMs == list.AfterFailedAtUnixMs && string.CompareOrdinal(TaskId, list.AfterTaskId) > 0);

    /// <summary>About how many bytes it takes in a reply.</summary>
    public int WireBytes => 32 + 3 * (TaskId.Length + (Reason?.Length ?? 0));
}
/// <param name="More">More dead letters follow the last item (ask again with it as the cursor, see <see cref="ListDeadLetters"/>).</param>
[MemoryPackable] public sealed partial record DeadLetters(string Queue, DeadLetter[] Items, bool More = false, string Namespace = PartitionId.DefaultNamespace) : IConduitMessage;
[MemoryPackable] public sealed partial record DeadLettersRequeued(string Queue, long Count, string Namespace = PartitionId.DefaultNamespace) : IConduitMessage;

[MemoryPackable] public sealed partial record Released(int Count) : IConduitMessage;

/// <summary>A partition's load as its node reports it to the node's load publisher (a local message).</summary>
[MemoryPackable]
public sealed partial record PartitionLoad(long Ready, long Delayed, long Running, int Pollers, long OldestReadyAgeMs, long AtUnixMs) : IConduitMessage;

/// <summary>
/// What one node gossips (DistributedData, one entry per node): the partitions it runs that have load (ready tasks or
/// waiting pollers), as parallel arrays, stamped with when the node published it. A partition not listed has none.
/// Frontends route the requests of multi-partition queues by it.
/// </summary>
[MemoryPackable]
public sealed partial record NodeLoad(string[] PartitionIds, long[] Ready, int[] Pollers, long AtUnixMs) : IConduitMessage;
