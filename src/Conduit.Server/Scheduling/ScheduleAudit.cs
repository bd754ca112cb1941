using Akka.Event;

namespace Conduit.Server.Scheduling;

/// <summary>Audit lines of schedule changes, with who asked (set by the gateway) and the schedule as <c>ns/name</c>, escaped.</summary>
internal static class ScheduleAudit
{
    /// <summary>A save refused before it reached the schedule (the namespace's limit, or a count that could not be made).</summary>
    public static void Refused(ILoggingAdapter log, PutSchedule put, Rejected refusal) =>
        log.Warning("Operator {0} was refused saving schedule {1}: {2} {3}", Who(put), Schedule(put), refusal.Code, SafeText.Escape(refusal.Message, 500));

    private static string Who(IScheduleChange change) => SafeText.Escape(change.By?.ToString(), 300);

    private static string Schedule(IScheduleChange change) =>
        $"{SafeText.Escape(NamespaceName.OrDefault(change.Namespace), 140)}/{SafeText.Escape(change.Name, 140)}";

    public static void Log(ILoggingAdapter log, IScheduleChange change)
    {
        var who = Who(change);
        var schedule = Schedule(change);
        switch (change)
        {
            case PutSchedule put:
                log.Info("Operator {0} saved schedule {1} ({2} onto queue {3})", who, schedule,
                    put.Spec?.Cron is { } cron ? $"cron '{SafeText.Escape(cron, 200)}' {SafeText.Escape(put.Spec.TimeZone ?? "UTC", 100)}" : $"every {put.Spec?.IntervalMs} ms",
                    SafeText.Escape(put.Spec?.Queue, 140));
                break;
            case DeleteSchedule:
                log.Warning("Operator {0} deleted schedule {1}", who, schedule);
                break;
            case PauseSchedule:
                log.Info("Operator {0} paused schedule {1}", who, schedule);
                break;
            case ResumeSchedule:
                log.Info("Operator {0} resumed schedule {1}", who, schedule);
                break;
            case TriggerSchedule:
                log.Info("Operator {0} triggered schedule {1}", who, schedule);
                break;
        }
    }
}
