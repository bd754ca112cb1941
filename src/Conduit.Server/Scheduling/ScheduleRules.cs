using Conduit.Server.Matching;
using Cronos;

namespace Conduit.Server.Scheduling;

/// <summary>What a schedule request must satisfy before any schedule entity starts: names, and a spec that can run.</summary>
internal static class ScheduleRules
{
    /// <summary>Longest interval, furthest start and end: a year, as far as a task may be scheduled ahead.</summary>
    public const long MaxIntervalMs = 366L * 24 * 3600 * 1000;
    public const long MaxMissedAfterMs = 24L * 3600 * 1000;
    public const int MaxCronLength = 200;

    /// <summary>Idempotency keys with this prefix are the schedules' own: a client's enqueue may not use one.</summary>
    public const string ReservedKeyPrefix = "schedule:";
    /// <summary>Headers with this prefix are set by schedules only (<see cref="ScheduleSpec.ScheduleHeader"/>, <see cref="ScheduleSpec.DueHeader"/>).</summary>
    public const string ReservedHeaderPrefix = "conduit-schedule";

    /// <summary>
    /// Null when <paramref name="task"/>, sent by a client, uses neither a schedule's idempotency key nor its headers.
    /// Otherwise a producer could enqueue a run in a schedule's place (its key is predictable), or pass a task off as a
    /// schedule's run to the workers.
    /// </summary>
    public static Rejected? CheckNotReserved(TaskSpec? task) => task switch
    {
        { IdempotencyKey: { } key } when key.StartsWith(ReservedKeyPrefix, StringComparison.Ordinal) =>
            new Rejected(ErrorCode.InvalidArgument, $"idempotency keys starting with '{ReservedKeyPrefix}' are reserved for schedules"),
        { Headers: { } headers } when headers.Keys.Any(h => h?.StartsWith(ReservedHeaderPrefix, StringComparison.OrdinalIgnoreCase) == true) =>
            new Rejected(ErrorCode.InvalidArgument, $"headers starting with '{ReservedHeaderPrefix}' are set by schedules only"),
        _ => null,
    };

    /// <summary>Null when the request names a valid schedule; otherwise the refusal.</summary>
    public static Rejected? CheckName(string? name, string? ns)
    {
        if (!NamespaceName.IsValid(NamespaceName.OrDefault(ns)))
            return new Rejected(ErrorCode.InvalidNamespace, NamespaceName.Describe(SafeText.Escape(ns, 140)));
        if (!QueueName.IsValid(name))
            return new Rejected(ErrorCode.InvalidArgument,
                $"invalid schedule name '{SafeText.Escape(name, 140)}': use 1-{QueueName.MaxLength} characters from a-z, 0-9, '.', '_', '-', starting with a letter or digit");
        return null;
    }

    /// <summary>Null when <paramref name="spec"/> can run; otherwise <c>Rejected(InvalidArgument, …)</c> (or the task's own refusal).</summary>
    public static Rejected? CheckSpec(ScheduleSpec? spec, PartitionOptions options, long nowMs)
    {
        if (spec is null) return Invalid("a schedule needs a spec");
        if (!QueueName.IsValid(spec.Queue)) return new Rejected(ErrorCode.InvalidQueueName, QueueName.Describe(SafeText.Escape(spec.Queue, 140)));
        if (spec.Task is null) return Invalid("a schedule needs a task template");
        if (spec.Task.IdempotencyKey is not null || spec.Task.DelayMs != 0 || spec.Task.RunAtUnixMs is not null)
            return Invalid("a schedule's task template has no idempotency key, delay or run-at: the schedule sets them");
        if (TaskSpecRules.Check(spec.Task, options, nowMs) is { } task) return task;
        var headers = spec.Task.Headers;
        if (headers is not null && (headers.ContainsKey(ScheduleSpec.ScheduleHeader) || headers.ContainsKey(ScheduleSpec.DueHeader)))
            return Invalid($"headers {ScheduleSpec.ScheduleHeader} and {ScheduleSpec.DueHeader} are set by the schedule");
        if ((spec.Cron is null) == (spec.IntervalMs == 0)) return Invalid("give exactly one of a cron expression and an interval");
        if (spec.Cron is { } cron)
        {
            if (cron.Length > MaxCronLength) return Invalid($"a cron expression has at most {MaxCronLength} characters");
            try
            {
                ScheduleTimes.ParseCron(cron);
            }
            catch (CronFormatException e)
            {
                return Invalid($"invalid cron expression '{SafeText.Escape(cron, 100)}': {SafeText.Escape(e.Message, 200)}");
            }
        }
        else if (spec.IntervalMs is < ScheduleSpec.MinIntervalMs or > MaxIntervalMs)
        {
            return Invalid($"an interval is {ScheduleSpec.MinIntervalMs} ms to {MaxIntervalMs / 86_400_000} days, not {spec.IntervalMs} ms");
        }
        if (spec.TimeZone is { Length: > 100 } || ScheduleTimes.Zone(spec.TimeZone) is null)
            return Invalid($"unknown time zone '{SafeText.Escape(spec.TimeZone, 100)}': use an IANA id such as Europe/Berlin, or UTC");
        if (spec.TimeZone is not null && spec.Cron is null) return Invalid("a time zone applies to a cron expression only");
        if (spec.StartAtUnixMs < 0 || spec.EndAtUnixMs < 0) return Invalid("start and end are Unix milliseconds, or 0 for none");
        if (spec.StartAtUnixMs > nowMs + MaxIntervalMs) return Invalid("a schedule starts within a year");
        if (spec.EndAtUnixMs > 0 && spec.EndAtUnixMs <= Math.Max(spec.StartAtUnixMs, nowMs)) return Invalid("the end must be after the start and after now");
        if (spec.MissedAfterMs is < 1_000 or > MaxMissedAfterMs) return Invalid($"missed-after is 1 s to 24 h, not {spec.MissedAfterMs} ms");
        if (spec.JitterMs < 0 || spec.JitterMs >= spec.MissedAfterMs)
            return Invalid($"jitter is 0 up to (not including) missed-after ({spec.MissedAfterMs} ms), not {spec.JitterMs} ms");
        if (spec.IntervalMs > 0 && spec.JitterMs >= spec.IntervalMs) return Invalid("jitter is less than the interval");
        if (!Enum.IsDefined(spec.Overlap) || !Enum.IsDefined(spec.MissedRuns)) return Invalid("unknown overlap or missed-run policy");
        return null;
    }

    private static Rejected Invalid(string message) => new(ErrorCode.InvalidArgument, message);
}
