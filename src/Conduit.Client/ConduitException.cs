namespace Conduit.Client;

/// <summary>
/// The cluster refused a request with a typed error (<see cref="ErrorCode"/>). A refused request changed nothing.
/// Each code has its own subclass, so callers catch what they can handle; <see cref="From"/> maps a refusal.
/// </summary>
public class ConduitException : Exception
{
    public ConduitException(ErrorCode code, string message) : base(message) => Code = code;

    /// <summary>Why the request was refused.</summary>
    public ErrorCode Code { get; }

    /// <summary>The typed exception for a <see cref="Rejected"/> reply.</summary>
    public static ConduitException From(Rejected rejected) => rejected.Code switch
    {
        ErrorCode.InvalidQueueName => new InvalidQueueNameException(rejected.Message),
        ErrorCode.PayloadTooLarge => new PayloadTooLargeException(rejected.Message),
        ErrorCode.InvalidArgument => new InvalidArgumentException(rejected.Message),
        ErrorCode.UnknownLease => new UnknownLeaseException(rejected.Message),
        ErrorCode.LeaseExpired => new LeaseExpiredException(rejected.Message),
        ErrorCode.TaskNotFound => new TaskNotFoundException(rejected.Message),
        ErrorCode.Overloaded => new OverloadedException(rejected.Message),
        ErrorCode.Unavailable => new UnavailableException(rejected.Message),
        ErrorCode.Unauthorized => new UnauthorizedException(rejected.Message),
        ErrorCode.QuotaExceeded => new QuotaExceededException(rejected.Message),
        ErrorCode.InvalidNamespace => new InvalidNamespaceException(rejected.Message),
        ErrorCode.ScheduleNotFound => new ScheduleNotFoundException(rejected.Message),
        ErrorCode.HistoryOff => new HistoryOffException(rejected.Message),
        var other => new ConduitException(other, rejected.Message),
    };
}

/// <summary>
/// An <see cref="ConduitClient.EnqueueBatchAsync(string, IEnumerable{TaskSpec}, CancellationToken)"/> whose tasks went to
/// several partitions (idempotency keys pick them) was enqueued only in part: some partitions committed their tasks, others
/// refused or did not answer. Unlike other refusals this one changed something: <see cref="Results"/> says which tasks
/// are durable. Retrying the whole batch is safe for tasks with idempotency keys (those already enqueued come back as
/// duplicates with their ids); tasks without a key that are in <see cref="Results"/> would be enqueued twice.
/// </summary>
public sealed class BatchPartlyEnqueuedException(BatchPartlyEnqueued reply)
    : ConduitException(reply.Refusals.First(r => r is not null)!.Code,
        $"{reply.Results.Count(r => r is not null)} of {reply.Results.Length} tasks were enqueued; the others were not: {reply.Refusals.First(r => r is not null)}")
{
    /// <summary>One per task, in the order given: the enqueued task, or null when it was not enqueued (<see cref="Refusals"/> says why).</summary>
    public IReadOnlyList<Enqueued?> Results { get; } = reply.Results;
    /// <summary>One per task, in the order given: null for an enqueued task, otherwise why it was not.</summary>
    public IReadOnlyList<Rejected?> Refusals { get; } = reply.Refusals;
}

/// <summary>Queue names are <c>[a-z0-9][a-z0-9._-]{0,127}</c>.</summary>
public sealed class InvalidQueueNameException(string message) : ConduitException(ErrorCode.InvalidQueueName, message);

/// <summary>Namespace names follow the queue-name rule, <c>[a-z0-9][a-z0-9._-]{0,127}</c>.</summary>
public sealed class InvalidNamespaceException(string message) : ConduitException(ErrorCode.InvalidNamespace, message);

/// <summary>The payload is larger than the cluster accepts (256 KiB by default).</summary>
public sealed class PayloadTooLargeException(string message) : ConduitException(ErrorCode.PayloadTooLarge, message);

/// <summary>A value is out of range (empty payload, priority outside 0-9, poll max below 1, ...).</summary>
public sealed class InvalidArgumentException(string message) : ConduitException(ErrorCode.InvalidArgument, message);

/// <summary>The lease token is malformed, or its task is already completed or cancelled.</summary>
public sealed class UnknownLeaseException(string message) : ConduitException(ErrorCode.UnknownLease, message);

/// <summary>The lease ran out: the task was or will be delivered again.</summary>
public sealed class LeaseExpiredException(string message) : ConduitException(ErrorCode.LeaseExpired, message);

/// <summary>No such task.</summary>
public sealed class TaskNotFoundException(string message) : ConduitException(ErrorCode.TaskNotFound, message);
public sealed class ScheduleNotFoundException(string message) : ConduitException(ErrorCode.ScheduleNotFound, message);

/// <summary>Too much outstanding work on a partition: back off and retry.</summary>
public sealed class OverloadedException(string message) : ConduitException(ErrorCode.Overloaded, message);

/// <summary>
/// Storage is down, or the partition is recovering or moving; it recovers by itself. Retry later. For a write that had
/// reached storage the outcome is unknown (as after a timeout): an enqueue retried with its idempotency key says which.
/// </summary>
public sealed class UnavailableException(string message) : ConduitException(ErrorCode.Unavailable, message);

/// <summary>The caller may not do this.</summary>
public sealed class UnauthorizedException(string message) : ConduitException(ErrorCode.Unauthorized, message);

/// <summary>A configured limit of the node is reached (live partitions per node): back off, or ask the operator to raise it.</summary>
public sealed class QuotaExceededException(string message) : ConduitException(ErrorCode.QuotaExceeded, message);

/// <summary>
/// No answer within the timeout. The request may or may not have taken effect (an enqueue may be durable):
/// retry only what is safe to repeat (reads, enqueues with an idempotency key).
/// </summary>
public class ConduitTimeoutException(string message, Exception? inner = null) : TimeoutException(message, inner);

/// <summary>
/// No answer, and the client has no connection to any node: the cluster is unreachable (no node running at the
/// contact points, or a network problem). The client keeps trying to reconnect in the background
/// (it probes its contact points; see docs/client.md).
/// </summary>
public sealed class ConduitUnreachableException(string message, Exception? inner = null) : ConduitTimeoutException(message, inner);

/// <summary>The cluster answered with something this client does not understand (a version mismatch).</summary>
public sealed class ConduitProtocolException(string message) : InvalidOperationException(message);

/// <summary>The node keeps no task history (<c>--task-history-hours 0</c>): completed and cancelled tasks cannot be listed.</summary>
public sealed class HistoryOffException(string message) : ConduitException(ErrorCode.HistoryOff, message);
