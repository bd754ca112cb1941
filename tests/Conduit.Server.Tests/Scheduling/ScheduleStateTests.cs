using Conduit.Protocol;
using Conduit.Server.Scheduling;
using CsCheck;
using Xunit;

namespace Conduit.Server.Tests.Scheduling;

/// <summary>A schedule's decisions (<see cref="ScheduleState.Decide"/>) over fake time: what runs, what is skipped, and that nothing runs twice.</summary>
public sealed class ScheduleStateTests
{
    private const long Created = 1_700_000_000_000;
    private static readonly TaskSpec Template = new([1]);

    private static ScheduleState Saved(ScheduleSpec spec, long at = Created)
    {
        var state = new ScheduleState();
        state.Apply(new ScheduleSaved { Spec = spec, AtUnixMs = at });
        return state;
    }

    private static ScheduleSpec Every(long ms, MissedRunPolicy missed = MissedRunPolicy.RunOnce, long missedAfter = 60_000) =>
        new("q", Template, IntervalMs: ms, MissedRuns: missed, MissedAfterMs: missedAfter);

    private static long NoJitter(long _) => 0;

    /// <summary>Acts on decisions at <paramref name="now"/> until the state waits; returns the dues run.</summary>
    private static List<long> Settle(ScheduleState state, long now, List<long>? skippedDues = null)
    {
        var runs = new List<long>();
        for (var guard = 0; guard < 100; guard++)
        {
            switch (state.Decide(now, NoJitter))
            {
                case ScheduleDecision.Run run:
                    runs.Add(run.DueUnixMs);
                    state.Apply(new ScheduleRan { DueUnixMs = run.DueUnixMs, TaskId = $"t{run.DueUnixMs}", SkippedBefore = run.SkippedBefore });
                    break;
                case ScheduleDecision.Skip skip:
                    skippedDues?.Add(skip.UpToDueUnixMs);
                    state.Apply(new ScheduleSkipped { UpToDueUnixMs = skip.UpToDueUnixMs, Count = skip.Count });
                    break;
                default:
                    return runs;
            }
        }
        throw new InvalidOperationException("decisions did not settle");
    }

    [Fact(DisplayName = "an interval schedule waits for its first due time, one interval after it was created, and runs each due time once")]
    public void IntervalOnTime()
    {
        var state = Saved(Every(1_000));
        Assert.Equal(new ScheduleDecision.WaitUntil(Created + 1_000), state.Decide(Created, NoJitter));
        Assert.Equal([Created + 1_000], Settle(state, Created + 1_003));
        Assert.Empty(Settle(state, Created + 1_500));
        Assert.Equal(new ScheduleDecision.WaitUntil(Created + 2_000), state.Decide(Created + 1_500, NoJitter));
        Assert.Equal((1L, 0L, Created + 1_000), (state.Runs, state.Skipped, state.LastDueUnixMs));
    }

    [Theory(DisplayName = "after an outage longer than missed-after, RunOnce runs the latest missed due time once and Skip runs none; both count the rest as skipped")]
    [InlineData(MissedRunPolicy.RunOnce, 1, 3)]
    [InlineData(MissedRunPolicy.Skip, 0, 4)]
    public void AfterOutage(MissedRunPolicy policy, int expectedRuns, int expectedSkipped)
    {
        var state = Saved(Every(10_000, policy, missedAfter: 5_000));
        Assert.Equal([Created + 10_000], Settle(state, Created + 10_000));
        // Down until +57 s: due times +20 s … +50 s are missed (the latest is 7 s late).
        var runs = Settle(state, Created + 57_000);
        Assert.Equal(expectedRuns, runs.Count);
        if (expectedRuns == 1) Assert.Equal(Created + 50_000, runs[0]);
        Assert.Equal(expectedSkipped, state.Skipped);
        Assert.Equal(new ScheduleDecision.WaitUntil(Created + 60_000), state.Decide(Created + 57_000, NoJitter));
    }

    [Fact(DisplayName = "a due time late by less than missed-after still runs; the earlier missed ones are counted as skipped whatever the policy")]
    public void LateWithinGrace()
    {
        var state = Saved(Every(1_000, MissedRunPolicy.Skip, missedAfter: 3_000));
        var runs = Settle(state, Created + 5_500);
        Assert.Equal([Created + 5_000], runs);
        Assert.Equal(4, state.Skipped);
    }

    [Fact(DisplayName = "a run started but not recorded (its node died) is finished first when the schedule recovers, however late, so its idempotency key finds the first task and it counts as run")]
    public void StartedRunIsFinished()
    {
        var state = Saved(Every(1_000));
        var first = Assert.IsType<ScheduleDecision.Run>(state.Decide(Created + 1_000, NoJitter));
        Assert.False(first.Resumed);
        state.Apply(new ScheduleRunStarted { DueUnixMs = first.DueUnixMs, SkippedBefore = first.SkippedBefore });
        // ... the enqueue may have happened; the node died before ScheduleRan was persisted; the schedule recovers 2.5 s
        // later, from a snapshot taken meanwhile.
        var recovered = new ScheduleState();
        recovered.Apply(state.ToSnapshot());
        var again = Assert.IsType<ScheduleDecision.Run>(recovered.Decide(Created + 3_500, NoJitter));
        Assert.Equal((first.DueUnixMs, 0L, true), (again.DueUnixMs, again.SkippedBefore, again.Resumed));
        recovered.Apply(new ScheduleRan { DueUnixMs = again.DueUnixMs, TaskId = "t1", SkippedBefore = again.SkippedBefore });
        // Then the due times missed meanwhile, by the policy (RunOnce: the latest, the one before it skipped).
        var next = Assert.IsType<ScheduleDecision.Run>(recovered.Decide(Created + 3_500, NoJitter));
        Assert.Equal((Created + 3_000, 1L, false), (next.DueUnixMs, next.SkippedBefore, next.Resumed));
        Assert.Equal((1L, 0L), (recovered.Runs, recovered.Skipped));
    }

    [Fact(DisplayName = "a started run is dropped by a new spec, a pause and a refusal recorded as skipped; without a start (an older journal) a late recovery decides anew")]
    public void StartedRunDropped()
    {
        foreach (var drop in new object[]
                 {
                     new ScheduleSaved { Spec = Every(1_000), AtUnixMs = Created + 1_500 }, new SchedulePauseChanged { Paused = true, AtUnixMs = Created + 1_500 },
                     new ScheduleSkipped { UpToDueUnixMs = Created + 1_000, Count = 1 },
                 })
        {
            var state = Saved(Every(1_000));
            state.Apply(new ScheduleRunStarted { DueUnixMs = Created + 1_000 });
            state.Apply(drop);
            Assert.Equal(0, state.PendingDueUnixMs);
        }
        var old = Saved(Every(1_000));
        Assert.IsType<ScheduleDecision.Run>(old.Decide(Created + 1_000, NoJitter));
        var anew = Assert.IsType<ScheduleDecision.Run>(old.Decide(Created + 3_500, NoJitter));
        Assert.Equal((Created + 3_000, 2L), (anew.DueUnixMs, anew.SkippedBefore));
    }

    [Fact(DisplayName = "paused, a schedule decides nothing; resumed, the due times while paused are not run")]
    public void PauseResume()
    {
        var state = Saved(Every(1_000));
        Settle(state, Created + 1_000);
        state.Apply(new SchedulePauseChanged { Paused = true, AtUnixMs = Created + 1_200 });
        Assert.IsType<ScheduleDecision.Idle>(state.Decide(Created + 5_000, NoJitter));
        Assert.Empty(state.Upcoming(Created + 5_000, 3));
        state.Apply(new SchedulePauseChanged { Paused = false, AtUnixMs = Created + 5_100 });
        Assert.Equal(new ScheduleDecision.WaitUntil(Created + 6_000), state.Decide(Created + 5_100, NoJitter));
        Assert.Equal(0, state.Skipped);
    }

    [Fact(DisplayName = "jitter delays a run within its spread, the same for the same due time, and does not make it missed")]
    public void Jitter()
    {
        var spec = Every(1_000, MissedRunPolicy.Skip, missedAfter: 2_000) with { JitterMs = 700 };
        var state = Saved(spec);
        long Jit(long due) => due % 7 * 100 + 50;
        var due = Created + 1_000;
        Assert.Equal(new ScheduleDecision.WaitUntil(due + Jit(due)), state.Decide(due, Jit));
        Assert.Equal(new ScheduleDecision.Run(due, 0), state.Decide(due + Jit(due), Jit));
    }

    [Fact(DisplayName = "start and end bound the due times; past the end the schedule is idle")]
    public void StartAndEnd()
    {
        var spec = Every(1_000) with { StartAtUnixMs = Created + 10_000, EndAtUnixMs = Created + 12_500 };
        var state = Saved(spec);
        Assert.Equal(new ScheduleDecision.WaitUntil(Created + 10_000), state.Decide(Created, NoJitter));
        Assert.Equal([Created + 10_000, Created + 11_000, Created + 12_000],
            new[] { 10_000, 11_000, 12_000 }.SelectMany(t => Settle(state, Created + t)).ToArray());
        Assert.IsType<ScheduleDecision.Idle>(state.Decide(Created + 13_000, NoJitter));
    }

    [Fact(DisplayName = "a six-field cron runs on its seconds; a five-field one on minutes, in its time zone")]
    public void Cron()
    {
        var at = DateTimeOffset.Parse("2026-03-28T12:00:00Z").ToUnixTimeMilliseconds();
        var everyTen = ScheduleTimes.Of(new ScheduleSpec("q", Template, Cron: "*/10 * * * * *"), at);
        Assert.Equal([at + 10_000, at + 20_000, at + 30_000], everyTen.Upcoming(at, 3));
        // Berlin moves to summer time on 2026-03-29: 09:00 local is 08:00 UTC before and 07:00 UTC after.
        var nine = ScheduleTimes.Of(new ScheduleSpec("q", Template, Cron: "0 9 * * *", TimeZone: "Europe/Berlin"), at);
        Assert.Equal(
            [DateTimeOffset.Parse("2026-03-29T07:00:00Z").ToUnixTimeMilliseconds(), DateTimeOffset.Parse("2026-03-30T07:00:00Z").ToUnixTimeMilliseconds()],
            nine.Upcoming(at, 2));
    }

    [Fact(DisplayName = "property: under random timer lateness and outages, no due time runs twice, every run is a real due time, and timers late by less than an interval (and missed-after) run every due time")]
    public void NoDueRunsTwice()
    {
        Gen.Select(Gen.Long[1_000, 10_000], Gen.Long[1_000, 30_000], Gen.Bool,
                Gen.Long[0, 2_000].Array[1, 60], Gen.Long[0, 120_000].Array[0, 3])
            .Sample((interval, missedAfter, skip, lateness, outages) =>
            {
                var state = Saved(Every(interval, skip ? MissedRunPolicy.Skip : MissedRunPolicy.RunOnce, missedAfter));
                var now = Created;
                var runs = new List<long>();
                // Timers late by less than an interval and by no more than missed-after: no due time passes unseen or counts as missed.
                var onTime = outages.Length == 0 && lateness.All(l => l < interval && l <= missedAfter);
                for (var i = 0; i < lateness.Length; i++)
                {
                    if (state.Decide(now, NoJitter) is ScheduleDecision.WaitUntil wait) now = wait.AtUnixMs + lateness[i];
                    if (i < outages.Length) now += outages[i];
                    runs.AddRange(Settle(state, now));
                }
                if (runs.Distinct().Count() != runs.Count) return false;
                if (!runs.SequenceEqual(runs.Order())) return false;
                if (runs.Any(due => due <= Created || (due - Created) % interval != 0)) return false;
                // On time: the runs are exactly the due times up to the last one, none skipped.
                if (onTime && runs.Count > 0 && (runs.Count != (runs[^1] - Created) / interval || state.Skipped != 0)) return false;
                return state.Runs == runs.Count;
            }, iter: 300);
    }
}
