namespace Conduit.Protocol;

// Schedules: recurring tasks. A schedule has a name (the queue-name rule) in a namespace, and enqueues its task
// template onto its queue at each due time of a cron expression or an interval. Operator requests: send them to the
// management path (WireNames.ManagementPath); they need the Operator role in the schedule's namespace.

/// <summary>What a schedule does when its previous run is still waiting or running at the next due time.</summary>
public enum OverlapPolicy
{
    /// <summary>Enqueue anyway. The default.</summary>
    Allow = 0,
    /// <summary>Skip this due time (counted as skipped) while the task of the previous run is not finished.</summary>
    Skip = 1,
}

/// <summary>What a schedule does with due times it missed (the cluster was down, or storage was) by more than <see cref="ScheduleSpec.MissedAfterMs"/>.</summary>
public enum MissedRunPolicy
{
    /// <summary>Run once for all of them (the latest missed due time). The default.</summary>
    RunOnce = 0,
    /// <summary>Run none of them; the schedule goes on from the next due time.</summary>
    Skip = 1,
}

/// <summary>
/// When and what a schedule enqueues. Exactly one of <paramref name="Cron"/> and <paramref name="IntervalMs"/>.
/// </summary>
/// <param name="Queue">Queue the task goes to (in the schedule's namespace).</param>
/// <param name="Task">The task enqueued at each due time: payload, headers, priority, max attempts. Its idempotency key, delay and run-at must be unset (the schedule sets them).</param>
/// <param name="Cron">A cron expression, 5 fields (minute precision) or 6 (with seconds first), Cronos syntax.</param>
/// <param name="TimeZone">Time zone of <paramref name="Cron"/> (IANA id such as <c>Europe/Berlin</c>). Defaults to UTC.</param>
/// <param name="IntervalMs">Run every this many milliseconds (at least 1000), counted from <paramref name="StartAtUnixMs"/>, or from when the schedule was created.</param>
/// <param name="StartAtUnixMs">No due time before this (Unix ms). 0: none.</param>
/// <param name="EndAtUnixMs">No due time after this (Unix ms). 0: none.</param>
/// <param name="JitterMs">Each run is enqueued up to this much after its due time (spread, fixed per due time). Less than <paramref name="MissedAfterMs"/>.</param>
/// <param name="MissedAfterMs">A due time this late counts as missed (<paramref name="MissedRuns"/> decides). Defaults to 60 s.</param>
[MemoryPackable]
public sealed partial record ScheduleSpec(
    string Queue,
    TaskSpec Task,
    string? Cron = null,
    string? TimeZone = null,
    long IntervalMs = 0,
    long StartAtUnixMs = 0,
    long EndAtUnixMs = 0,
    long JitterMs = 0,
    OverlapPolicy Overlap = OverlapPolicy.Allow,
    MissedRunPolicy MissedRuns = MissedRunPolicy.RunOnce,
    long MissedAfterMs = ScheduleSpec.DefaultMissedAfterMs)
{
    public const long DefaultMissedAfterMs = 60_000;
    public const long MinIntervalMs = 1_000;
    /// <summary>Header set on every task a schedule enqueues: the schedule's name.</summary>
    public const string ScheduleHeader = "conduit-schedule";
    /// <summary>Header set on every task a schedule enqueues: its due time (Unix ms), or <c>manual</c> for a trigger.</summary>
    public const string DueHeader = "conduit-schedule-due";
}

/// <summary>A request about one schedule (<see cref="Name"/> in <see cref="Namespace"/>).</summary>
public interface IScheduleRequest : IManagementRequest
{
    string Name { get; }
    string Namespace { get; }
}

/// <summary>A request that changes a schedule; the node sets <see cref="By"/> to who sent it (audit), whatever the sender wrote.</summary>
public interface IScheduleChange : IScheduleRequest
{
    Requester? By { get; }
}

/// <summary>Creates the schedule, or replaces its spec (its history stays; due times before now are not run). Answered with <see cref="ScheduleInfo"/>.</summary>
[MemoryPackable] public sealed partial record PutSchedule(string Name, ScheduleSpec Spec, string Namespace = PartitionId.DefaultNamespace, Requester? By = null) : IScheduleChange;
/// <summary>Answered with <see cref="ScheduleInfo"/>, or <c>Rejected(ScheduleNotFound)</c>.</summary>
[MemoryPackable] public sealed partial record GetSchedule(string Name, string Namespace = PartitionId.DefaultNamespace) : IScheduleRequest;
/// <summary>No runs until resumed (due times while paused are not run). Answered with <see cref="ScheduleInfo"/>.</summary>
[MemoryPackable] public sealed partial record PauseSchedule(string Name, string Namespace = PartitionId.DefaultNamespace, Requester? By = null) : IScheduleChange;
/// <summary>Runs again from the next due time. Answered with <see cref="ScheduleInfo"/>.</summary>
[MemoryPackable] public sealed partial record ResumeSchedule(string Name, string Namespace = PartitionId.DefaultNamespace, Requester? By = null) : IScheduleChange;
/// <summary>Answered with <see cref="ScheduleDeleted"/>; its tasks already enqueued stay.</summary>
[MemoryPackable] public sealed partial record DeleteSchedule(string Name, string Namespace = PartitionId.DefaultNamespace, Requester? By = null) : IScheduleChange;
/// <summary>Enqueues the task once now, outside the due times (even when paused). Answered with <see cref="ScheduleTriggered"/>.</summary>
[MemoryPackable] public sealed partial record TriggerSchedule(string Name, string Namespace = PartitionId.DefaultNamespace, Requester? By = null) : IScheduleChange;
/// <summary>The schedules of a namespace, by name (at most <see cref="ScheduleList.MaxSchedules"/>). Answered with <see cref="ScheduleList"/>.</summary>
[MemoryPackable] public sealed partial record ListSchedules(string Namespace = PartitionId.DefaultNamespace) : IManagementRequest;

/// <summary>Node to node, and for tests and operators: the schedule entity ids (<c>ns/name</c>, every namespace) the answering node runs now.</summary>
[MemoryPackable] public sealed partial record GetLocalSchedules() : IManagementRequest;
/// <param name="Truncated">The node runs more schedules than fit in one reply; these are the first by id.</param>
[MemoryPackable] public sealed partial record LocalSchedules(string Node, string[] EntityIds, bool Truncated = false) : IConduitMessage;

/// <summary>A schedule and where it stands.</summary>
/// <param name="NextDueUnixMs">The next due times (up to 5; empty when paused or past its end).</param>
/// <param name="LastDueUnixMs">The due time of the last run (0: none yet).</param>
/// <param name="LastTaskId">The task of the last run (scheduled or triggered).</param>
/// <param name="Runs">Runs enqueued (due times and triggers).</param>
/// <param name="Skipped">Due times not run: missed (<see cref="MissedRunPolicy.Skip"/>, or covered by one <see cref="MissedRunPolicy.RunOnce"/> run) or overlapping (<see cref="OverlapPolicy.Skip"/>).</param>
[MemoryPackable]
public sealed partial record ScheduleInfo(
    string Name,
    string Namespace,
    ScheduleSpec Spec,
    bool Paused,
    long[] NextDueUnixMs,
    long LastDueUnixMs,
    string? LastTaskId,
    long Runs,
    long Skipped,
    long CreatedAtUnixMs) : IConduitMessage;

[MemoryPackable]
public sealed partial record ScheduleList(ScheduleInfo[] Schedules, string[] Unanswered, bool More = false) : IConduitMessage
{
    public const int MaxSchedules = 1000;
}

[MemoryPackable] public sealed partial record ScheduleDeleted(string Name, string Namespace) : IConduitMessage;
[MemoryPackable] public sealed partial record ScheduleTriggered(string Name, string Namespace, string TaskId) : IConduitMessage;
