using System.Text;

namespace Conduit.Server.Matching;

/// <summary>
/// What makes a request acceptable before anything is decided: a task to enqueue, a batch, a poll. Partitions check
/// every request; a frontend checks them first too (a batch it splits over partitions is checked whole, so a bad task
/// refuses the whole batch and no partition takes part of it; a poll is checked before a router starts). Every limit is
/// in bytes where size matters, and every number is bounded so no arithmetic on it can overflow.
/// </summary>
internal static class TaskSpecRules
{
    /// <summary>Most bytes (UTF-8) of all header names and values of one task.</summary>
    public const int MaxHeadersBytes = 64 * 1024;
    /// <summary>Most headers on one task.</summary>
    public const int MaxHeaders = 64;
    /// <summary>Most bytes (UTF-8) of an idempotency key.</summary>
    public const int MaxIdempotencyKeyBytes = 256;
    /// <summary>Most bytes (UTF-8) of a concurrency key.</summary>
    public const int MaxConcurrencyKeyBytes = 256;
    public const int MaxAttemptsLimit = 1000;
    /// <summary>Most ids (task ids or lease tokens) one request may carry.</summary>
    public const int MaxIdsPerRequest = WireLimits.MaxIdsPerRequest;

    public static Rejected? Check(TaskSpec? spec, PartitionOptions options, long nowMs)
    {
        if (spec is null) return new Rejected(ErrorCode.InvalidArgument, "task is missing");
        if (spec.Payload is null || spec.Payload.Length == 0) return new Rejected(ErrorCode.InvalidArgument, "payload is empty");
        if (spec.Payload.Length > options.MaxPayloadBytes)
            return new Rejected(ErrorCode.PayloadTooLarge, $"payload is {spec.Payload.Length} bytes; the limit is {options.MaxPayloadBytes}");
        if (spec.Priority is < TaskSpec.MinPriority or > TaskSpec.MaxPriority)
            return new Rejected(ErrorCode.InvalidArgument, $"priority {spec.Priority} is outside {TaskSpec.MinPriority}..{TaskSpec.MaxPriority}");
        var ahead = options.MaxScheduleAheadMs;
        if (spec.RunAtUnixMs is { } runAt)
        {
            if (runAt < 0 || runAt - nowMs > ahead)
                return new Rejected(ErrorCode.InvalidArgument, $"run-at must be a Unix time in ms no later than {ahead / 86_400_000} days from now");
        }
        else if (spec.DelayMs < 0 || spec.DelayMs > ahead)
        {
            return new Rejected(ErrorCode.InvalidArgument, $"delay must be 0..{ahead} ms ({ahead / 86_400_000} days)");
        }
        if (spec.MaxAttempts is < 0 or > MaxAttemptsLimit)
            return new Rejected(ErrorCode.InvalidArgument, $"max attempts must be 1..{MaxAttemptsLimit} (0 for the default)");
        if (spec.IdempotencyKey is { } key && (key.Length == 0 || Encoding.UTF8.GetByteCount(key) > MaxIdempotencyKeyBytes))
            return new Rejected(ErrorCode.InvalidArgument, $"idempotency key must be 1..{MaxIdempotencyKeyBytes} bytes (UTF-8)");
        if (spec.ConcurrencyKey is { } concurrencyKey && (concurrencyKey.Length == 0 || Encoding.UTF8.GetByteCount(concurrencyKey) > MaxConcurrencyKeyBytes))
            return new Rejected(ErrorCode.InvalidArgument, $"concurrency key must be 1..{MaxConcurrencyKeyBytes} bytes (UTF-8)");
        if (spec.Headers is { } headers)
        {
            if (headers.Count > MaxHeaders) return new Rejected(ErrorCode.InvalidArgument, $"a task may have at most {MaxHeaders} headers");
            if (HeadersBytes(headers) > MaxHeadersBytes)
                return new Rejected(ErrorCode.InvalidArgument, $"headers exceed {MaxHeadersBytes} bytes (UTF-8, names and values)");
        }
        return null;
    }

    public static long HeadersBytes(Dictionary<string, string>? headers)
    {
        if (headers is null) return 0;
        long bytes = 0;
        foreach (var (name, value) in headers) bytes += Encoding.UTF8.GetByteCount(name) + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));
        return bytes;
    }

    /// <summary>The batch as a whole (each task is checked with <see cref="Check"/>).</summary>
    public static Rejected? CheckBatch(TaskSpec[]? tasks, PartitionOptions options)
    {
        if (tasks is null || tasks.Length == 0) return new Rejected(ErrorCode.InvalidArgument, "an enqueue batch needs at least one task");
        var max = options.MaxEnqueueBatchTasks;
        return tasks.Length > max
            ? new Rejected(ErrorCode.InvalidArgument, $"a batch holds at most {max} tasks, not {tasks.Length}; split it")
            : null;
    }

    public static Rejected? CheckPoll(Poll poll, PartitionOptions options)
    {
        if (poll.MaxTasks < 1 || poll.MaxTasks > options.MaxPollTasks)
            return new Rejected(ErrorCode.InvalidArgument, $"max tasks must be 1..{options.MaxPollTasks}");
        if (poll.WaitMs < 0 || poll.WaitMs > options.LongPollTimeoutMaxMs)
            return new Rejected(ErrorCode.InvalidArgument, $"wait must be 0..{options.LongPollTimeoutMaxMs} ms");
        if (poll.LeaseMs != 0 && (poll.LeaseMs < 100 || poll.LeaseMs > 24 * 3600 * 1000L))
            return new Rejected(ErrorCode.InvalidArgument, "lease must be 100 ms..24 h (0 for the default)");
        if (poll.Worker is not null && !WorkerName.IsValid(poll.Worker))
            return new Rejected(ErrorCode.InvalidArgument, WorkerName.Describe(poll.Worker));
        return null;
    }

    public static Rejected? CheckDeadLetterLimit(ListDeadLetters list) =>
        list.Limit is < 1 or > ListDeadLetters.MaxLimit
            ? new Rejected(ErrorCode.InvalidArgument, $"limit must be 1..{ListDeadLetters.MaxLimit}, not {list.Limit}")
            : null;

    /// <summary>
    /// A queue's limits: a finite rate of 0..<see cref="QueueLimits.MaxRate"/> a second, burst and running limit
    /// 0..<see cref="QueueLimits.MaxCount"/> (0: none), and, with <paramref name="partitions"/> known (the frontend), a
    /// running limit of at least one per partition, so each partition may run at least one task.
    /// </summary>
    public static Rejected? CheckLimits(QueueLimits? limits, int partitions = 1)
    {
        if (limits is null) return new Rejected(ErrorCode.InvalidArgument, "limits are missing (send QueueLimits.None to lift them)");
        if (!double.IsFinite(limits.RatePerSecond) || limits.RatePerSecond < 0 || limits.RatePerSecond > QueueLimits.MaxRate)
            return new Rejected(ErrorCode.InvalidArgument, $"the rate must be 0..{QueueLimits.MaxRate:0} tasks a second (0: no limit)");
        if (limits.Burst < 0 || limits.Burst > QueueLimits.MaxCount)
            return new Rejected(ErrorCode.InvalidArgument, $"the burst must be 0..{QueueLimits.MaxCount} (0: one second's worth of the rate)");
        if (limits.Burst > 0 && limits.RatePerSecond <= 0)
            return new Rejected(ErrorCode.InvalidArgument, "a burst needs a rate");
        if (limits.MaxRunning < 0 || limits.MaxRunning > QueueLimits.MaxCount)
            return new Rejected(ErrorCode.InvalidArgument, $"the running limit must be 0..{QueueLimits.MaxCount} (0: no limit)");
        if (limits.MaxRunningPerKey < 0 || limits.MaxRunningPerKey > QueueLimits.MaxCount)
            return new Rejected(ErrorCode.InvalidArgument, $"the running limit per concurrency key must be 0..{QueueLimits.MaxCount} (0: no limit)");
        if (limits.MaxRunning > 0 && limits.MaxRunning < partitions)
            return new Rejected(ErrorCode.InvalidArgument,
                $"the queue has {partitions} partitions, each of which runs at least one task: the running limit must be at least {partitions} " +
                "(give the queue fewer partitions for a lower limit: --queue-partitions)");
        return null;
    }

    /// <summary>A list of ids in one request: at most <see cref="MaxIdsPerRequest"/>.</summary>
    public static Rejected? CheckIdCount(int count, string what) =>
        count > MaxIdsPerRequest ? new Rejected(ErrorCode.InvalidArgument, $"at most {MaxIdsPerRequest} {what} per request, not {count}") : null;
}
