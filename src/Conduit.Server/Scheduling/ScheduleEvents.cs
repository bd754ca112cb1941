using Conduit.Server.Persistence;

namespace Conduit.Server.Scheduling;

// A schedule's journal (persistence id "schedule-<namespace>/<name>"). Manifests are in JournalSerializer: never change one.

/// <summary>The schedule was created or its spec replaced at <see cref="AtUnixMs"/>; due times up to then are not run.</summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class ScheduleSaved : IConduitEvent
{
    [MemoryPackOrder(0)] public ScheduleSpec Spec { get; set; } = null!;
    [MemoryPackOrder(1)] public long AtUnixMs { get; set; }
}

/// <summary>Paused or resumed at <see cref="AtUnixMs"/>; due times while paused are not run.</summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class SchedulePauseChanged : IConduitEvent
{
    [MemoryPackOrder(0)] public bool Paused { get; set; }
    [MemoryPackOrder(1)] public long AtUnixMs { get; set; }
}

/// <summary>
/// Task <see cref="TaskId"/> was enqueued for due time <see cref="DueUnixMs"/> (0: a trigger), after
/// <see cref="SkippedBefore"/> earlier due times that were not run.
/// </summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class ScheduleRan : IConduitEvent
{
    [MemoryPackOrder(0)] public long DueUnixMs { get; set; }
    [MemoryPackOrder(1)] public string TaskId { get; set; } = "";
    [MemoryPackOrder(2)] public long SkippedBefore { get; set; }
}

/// <summary>
/// The run of due time <see cref="DueUnixMs"/> is about to be enqueued (after <see cref="SkippedBefore"/> earlier due
/// times that are not run). Written before the enqueue, so a schedule that recovers elsewhere before the run's
/// <see cref="ScheduleRan"/> finishes this run (its enqueue is idempotent) instead of deciding anew and counting a run
/// that happened as skipped.
/// </summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class ScheduleRunStarted : IConduitEvent
{
    [MemoryPackOrder(0)] public long DueUnixMs { get; set; }
    [MemoryPackOrder(1)] public long SkippedBefore { get; set; }
}

/// <summary><see cref="Count"/> due times up to <see cref="UpToDueUnixMs"/> were not run (missed, or overlapping).</summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class ScheduleSkipped : IConduitEvent
{
    [MemoryPackOrder(0)] public long UpToDueUnixMs { get; set; }
    [MemoryPackOrder(1)] public long Count { get; set; }
}

/// <summary>The schedule was deleted.</summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class ScheduleRemoved : IConduitEvent;

/// <summary>The whole state, saved every <see cref="ScheduleEntity.SnapshotEvery"/> events (then older events are deleted).</summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class ScheduleSnapshot : IConduitEvent
{
    [MemoryPackOrder(0)] public ScheduleSpec? Spec { get; set; }
    [MemoryPackOrder(1)] public bool Paused { get; set; }
    [MemoryPackOrder(2)] public long CreatedAtUnixMs { get; set; }
    [MemoryPackOrder(3)] public long FloorUnixMs { get; set; }
    [MemoryPackOrder(4)] public long LastDueUnixMs { get; set; }
    [MemoryPackOrder(5)] public string? LastTaskId { get; set; }
    [MemoryPackOrder(6)] public long Runs { get; set; }
    [MemoryPackOrder(7)] public long Skipped { get; set; }
    /// <summary>A run started and not yet recorded (<see cref="ScheduleRunStarted"/>); 0: none.</summary>
    [MemoryPackOrder(8)] public long PendingDueUnixMs { get; set; }
    [MemoryPackOrder(9)] public long PendingSkippedBefore { get; set; }
}
