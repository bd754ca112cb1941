namespace Conduit.Server.Matching;

/// <summary>
/// What makes a task acceptable. Partitions check every task; a frontend that splits a batch over partitions checks
/// them all first, so that a bad task refuses the whole batch and no partition takes part of it.
/// </summary>
public static class TaskSpecRules
{
    public const int MaxHeadersBytes = 64 * 1024;
    public const int MaxIdempotencyKeyLength = 256;
    public const int MaxAttemptsLimit = 1000;

    public static Rejected? Check(TaskSpec? spec, PartitionOptions options)
    {
        if (spec is null) return new Rejected(ErrorCode.InvalidArgument, "task is missing");
        if (spec.Payload is null || spec.Payload.Length == 0) return new Rejected(ErrorCode.InvalidArgument, "payload is empty");
        if (spec.Payload.Length > options.MaxPayloadBytes)
            return new Rejected(ErrorCode.PayloadTooLarge, $"payload is {spec.Payload.Length} bytes; the limit is {options.MaxPayloadBytes}");
        if (spec.Priority is < TaskSpec.MinPriority or > TaskSpec.MaxPriority)
            return new Rejected(ErrorCode.InvalidArgument, $"priority {spec.Priority} is outside {TaskSpec.MinPriority}..{TaskSpec.MaxPriority}");
        if (spec.DelayMs < 0) return new Rejected(ErrorCode.InvalidArgument, "delay must not be negative");
        if (spec.MaxAttempts is < 0 or > MaxAttemptsLimit)
            return new Rejected(ErrorCode.InvalidArgument, $"max attempts must be 1..{MaxAttemptsLimit} (0 for the default)");
        if (spec.IdempotencyKey is { } key && (key.Length == 0 || key.Length > MaxIdempotencyKeyLength))
            return new Rejected(ErrorCode.InvalidArgument, $"idempotency key must be 1..{MaxIdempotencyKeyLength} characters");
        if (spec.Headers is { } headers && headers.Sum(kv => (long)kv.Key.Length + (kv.Value?.Length ?? 0)) > MaxHeadersBytes)
            return new Rejected(ErrorCode.InvalidArgument, $"headers exceed {MaxHeadersBytes} characters");
        return null;
    }
}
