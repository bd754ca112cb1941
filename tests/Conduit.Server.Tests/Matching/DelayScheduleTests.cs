using Conduit.Protocol;
using Conduit.Server.Matching;
using Xunit;

namespace Conduit.Server.Tests.Matching;

public sealed class DelayScheduleTests
{
    [Fact(DisplayName = "entries come out earliest first, and only once their time is reached")]
    public void EarliestFirst()
    {
        var schedule = new DelaySchedule();
        schedule.Add(seq: 48, runAtMs: 300);
        schedule.Add(seq: 16, runAtMs: 100);
        schedule.Add(seq: 32, runAtMs: 200);

        Assert.False(schedule.TryTakeReached(99, out _, out _));
        var taken = new List<(long, long)>();
        while (schedule.TryTakeReached(200, out var seq, out var runAt)) taken.Add((seq, runAt));
        Assert.Equal([(16L, 100L), (32L, 200L)], taken);
        Assert.Equal(1, schedule.WaitingCount);
    }

    [Fact(DisplayName = "a task rescheduled keeps its old entry, which comes out with the old time for the caller to discard")]
    public void StaleEntriesStay()
    {
        var schedule = new DelaySchedule();
        schedule.Add(16, 100);
        schedule.Add(16, 500);
        Assert.True(schedule.TryTakeReached(100, out var seq, out var runAt));
        Assert.Equal((16L, 100L), (seq, runAt));
        Assert.Equal(1, schedule.WaitingCount);
    }

    [Fact(DisplayName = "a due task stays due until removed, and due tasks are a set")]
    public void Due()
    {
        var schedule = new DelaySchedule();
        schedule.MarkDue(16);
        schedule.MarkDue(16);
        schedule.MarkDue(33);
        Assert.Equal(2, schedule.DueCount);
        Assert.True(schedule.IsDue(16));
        Assert.True(schedule.RemoveDue(16));
        Assert.False(schedule.RemoveDue(16));
        Assert.Equal([33L], schedule.Due);
        schedule.ClearDue();
        Assert.Equal(0, schedule.DueCount);
    }

    [Fact(DisplayName = "a purge below a counter forgets the due tasks under it whatever their priority, and keeps the others")]
    public void PurgeBelow()
    {
        var schedule = new DelaySchedule();
        schedule.MarkDue(TaskSeq.Of(1, 9));
        schedule.MarkDue(TaskSeq.Of(4, 0));
        schedule.MarkDue(TaskSeq.Of(5, 3));
        schedule.RemoveDueBelow(5);
        Assert.Equal([TaskSeq.Of(5, 3).Value], schedule.Due);
    }
}
