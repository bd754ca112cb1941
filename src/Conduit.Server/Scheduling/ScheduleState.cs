namespace Conduit.Server.Scheduling;

/// <summary>What a schedule should do now (<see cref="ScheduleState.Decide"/>).</summary>
internal abstract record ScheduleDecision
{
    /// <summary>Nothing is due: look again at <see cref="AtUnixMs"/> (a due time plus its jitter).</summary>
    public sealed record WaitUntil(long AtUnixMs) : ScheduleDecision;
    /// <summary>Enqueue the run of due time <see cref="DueUnixMs"/>; <see cref="SkippedBefore"/> earlier due times are not run.</summary>
    /// <param name="Resumed">The run was started before (<see cref="ScheduleRunStarted"/>) and is finished now.</param>
    public sealed record Run(long DueUnixMs, long SkippedBefore, bool Resumed = false) : ScheduleDecision;
    /// <summary>Record <see cref="Count"/> due times up to <see cref="UpToDueUnixMs"/> as not run.</summary>
    public sealed record Skip(long UpToDueUnixMs, long Count) : ScheduleDecision;
    /// <summary>Paused, deleted, never created, or past its end: no timer.</summary>
    public sealed record Idle : ScheduleDecision;
}

/// <summary>
/// One schedule's state, built from its events, and the decision of what to do at a given time. Pure: the actor
/// (<see cref="ScheduleEntity"/>) persists, enqueues and keeps the timer.
/// <para>
/// <b>Floor</b>: every due time at or before it is settled (run, skipped, or before the schedule existed, was last
/// saved or resumed). A due time is run at most once per floor move, and its task is enqueued with an idempotency key
/// of the schedule and the due time. A run is recorded as started before its enqueue (<see cref="PendingDueUnixMs"/>), so
/// one started but not yet recorded as run when its node died is decided again first when the schedule recovers
/// elsewhere, and found again by its key, not doubled (within the queue's idempotency retention, 24 h by default).
/// </para>
/// </summary>
internal sealed class ScheduleState
{
    public ScheduleSpec? Spec { get; private set; }
    public bool Paused { get; private set; }
    public bool Exists => Spec is not null;
    public long CreatedAtUnixMs { get; private set; }
    public long FloorUnixMs { get; private set; }
    public long LastDueUnixMs { get; private set; }
    public string? LastTaskId { get; private set; }
    public long Runs { get; private set; }
    public long Skipped { get; private set; }
    /// <summary>The due time of a run started (<see cref="ScheduleRunStarted"/>) and not yet recorded as run or skipped; 0: none.</summary>
    public long PendingDueUnixMs { get; private set; }
    private long _pendingSkippedBefore;
    private ScheduleTimes? _times;

    public void Apply(object @event)
    {
        switch (@event)
        {
            case ScheduleRunStarted started:
                (PendingDueUnixMs, _pendingSkippedBefore) = (started.DueUnixMs, started.SkippedBefore);
                break;
            case ScheduleSaved saved:
                // A new spec (or a resume, below) moves the floor past a run in flight: it is not finished by the new spec.
                PendingDueUnixMs = 0;
                if (Spec is null) CreatedAtUnixMs = saved.AtUnixMs;
                Spec = saved.Spec;
                FloorUnixMs = Math.Max(FloorUnixMs, saved.AtUnixMs);
                _times = null;
                break;
            case SchedulePauseChanged change:
                Paused = change.Paused;
                PendingDueUnixMs = 0;
                // Resumed: what fell due while paused is not run.
                if (!change.Paused) FloorUnixMs = Math.Max(FloorUnixMs, change.AtUnixMs);
                break;
            case ScheduleRan ran:
                Runs++;
                Skipped += ran.SkippedBefore;
                LastTaskId = ran.TaskId;
                if (ran.DueUnixMs > 0)
                {
                    PendingDueUnixMs = 0;
                    LastDueUnixMs = ran.DueUnixMs;
                    FloorUnixMs = Math.Max(FloorUnixMs, ran.DueUnixMs);
                }
                break;
            case ScheduleSkipped skipped:
                Skipped += skipped.Count;
                FloorUnixMs = Math.Max(FloorUnixMs, skipped.UpToDueUnixMs);
                if (PendingDueUnixMs <= skipped.UpToDueUnixMs) PendingDueUnixMs = 0;
                break;
            case ScheduleRemoved:
                // Nothing carries over to a schedule created again under the name: a new creation time, and so new run keys.
                (Spec, Paused, CreatedAtUnixMs, FloorUnixMs, LastDueUnixMs, LastTaskId, Runs, Skipped) = (null, false, 0, 0, 0, null, 0, 0);
                PendingDueUnixMs = 0;
                _times = null;
                break;
            case ScheduleSnapshot snapshot:
                (Spec, Paused, CreatedAtUnixMs, FloorUnixMs) = (snapshot.Spec, snapshot.Paused, snapshot.CreatedAtUnixMs, snapshot.FloorUnixMs);
                (LastDueUnixMs, LastTaskId, Runs, Skipped) = (snapshot.LastDueUnixMs, snapshot.LastTaskId, snapshot.Runs, snapshot.Skipped);
                (PendingDueUnixMs, _pendingSkippedBefore) = (snapshot.PendingDueUnixMs, snapshot.PendingSkippedBefore);
                _times = null;
                break;
        }
    }

    /// <summary>
    /// The started run was refused before anything was written: decide again (in memory only; the next decision's event,
    /// a new start or a skip, replaces it in the journal, and until then a recovery finishes it, which is safe).
    /// </summary>
    public void ForgetPending() => PendingDueUnixMs = 0;

    public ScheduleSnapshot ToSnapshot() => new()
    {
        Spec = Spec, Paused = Paused, CreatedAtUnixMs = CreatedAtUnixMs, FloorUnixMs = FloorUnixMs,
        LastDueUnixMs = LastDueUnixMs, LastTaskId = LastTaskId, Runs = Runs, Skipped = Skipped,
        PendingDueUnixMs = PendingDueUnixMs, PendingSkippedBefore = _pendingSkippedBefore,
    };

    private ScheduleTimes Times => _times ??= ScheduleTimes.Of(Spec!, CreatedAtUnixMs);

    /// <summary>What to do at <paramref name="nowMs"/>; <paramref name="jitter"/> gives a due time's delay (0 to the spec's jitter).</summary>
    public ScheduleDecision Decide(long nowMs, Func<long, long> jitter)
    {
        if (Spec is not { } spec || Paused) return new ScheduleDecision.Idle();
        // A run started before a crash or failover is finished first, whatever time it is now: it may have been enqueued.
        if (PendingDueUnixMs > 0) return new ScheduleDecision.Run(PendingDueUnixMs, _pendingSkippedBefore, Resumed: true);
        if (Times.LatestDue(FloorUnixMs, nowMs) is not { } latest)
        {
            return Times.Next(Math.Max(FloorUnixMs, nowMs)) is { } next
                ? new ScheduleDecision.WaitUntil(next + jitter(next))
                : new ScheduleDecision.Idle();
        }
        var (due, earlier) = latest;
        var fireAt = due + jitter(due);
        if (nowMs < fireAt && earlier == 0) return new ScheduleDecision.WaitUntil(fireAt);
        // On time (or late within the grace): run it; the earlier ones, if any, were missed and are covered by this run
        // (RunOnce) or not run (Skip) — either way not run on their own.
        if (nowMs - due <= spec.MissedAfterMs) return nowMs < fireAt ? new ScheduleDecision.Skip(PreviousDue(due), earlier) : new ScheduleDecision.Run(due, earlier);
        return spec.MissedRuns == MissedRunPolicy.RunOnce
            ? new ScheduleDecision.Run(due, earlier)
            : new ScheduleDecision.Skip(due, earlier + 1);
    }

    /// <summary>A time just before <paramref name="due"/>, after every earlier due time: skipping up to it leaves <paramref name="due"/> to run.</summary>
    private static long PreviousDue(long due) => due - 1;

    /// <summary>Up to <paramref name="count"/> next due times from <paramref name="nowMs"/> (none while paused or deleted).</summary>
    public long[] Upcoming(long nowMs, int count) =>
        Spec is null || Paused ? [] : Times.Upcoming(Math.Max(FloorUnixMs, nowMs), count);

    public ScheduleInfo Info(string name, string ns, long nowMs) =>
        new(name, ns, Spec!, Paused, Upcoming(nowMs, 5), LastDueUnixMs, LastTaskId, Runs, Skipped, CreatedAtUnixMs);
}
