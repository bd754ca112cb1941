using Conduit.Server.History;
using Xunit;

namespace Conduit.Server.Tests.History;

/// <summary>The delivery starts the task history holds back for their task's next change, alone (no actor, no clock).</summary>
public sealed class LingeringStartsTests
{
    private const long Linger = 500;

    private static HistoryRecord Start(string id, int attempt = 1, int payload = 0) =>
        new(HistoryChange.Started, id, "default", "q", attempt, 1_000, Payload: new byte[payload]);

    [Fact(DisplayName = "a task's next change takes its lingering start along; it is then neither taken again nor released")]
    public void TakenAlong()
    {
        var starts = new LingeringStarts(Linger);
        var a = Start("default/q#0:1");
        var b = Start("default/q#0:2");
        Assert.Null(starts.Add(a, nowMs: 0));
        Assert.Null(starts.Add(b, nowMs: 100));

        Assert.True(starts.TryTake("default/q#0:1", out var taken));
        Assert.Same(a, taken);
        Assert.False(starts.TryTake("default/q#0:1", out _));
        Assert.False(starts.TryTake("default/q#0:9", out _));
        Assert.Equal(1, starts.Count);
        Assert.Equal([(b, 100L)], starts.ReleaseAll());
        Assert.Equal(0, starts.Count);
    }

    [Fact(DisplayName = "starts taken along while the oldest one is never released (the database away) do not pile up in line")]
    public void BoundedWhileNothingIsReleased()
    {
        var starts = new LingeringStarts(Linger);
        var head = Start("default/q#0:1");
        starts.Add(head, nowMs: 0);
        for (var i = 2; i < 20_000; i++)
        {
            starts.Add(Start($"default/q#0:{i}"), nowMs: i);
            Assert.True(starts.TryTake($"default/q#0:{i}", out _));
        }
        Assert.Equal(1, starts.Count);
        Assert.True(starts.Entries <= 2 * starts.Count + LingeringStarts.CompactionSlack + 1, $"{starts.Entries} entries in line");
        Assert.Equal([(head, 0L)], starts.ReleaseAll());
    }

    [Fact(DisplayName = "a start nothing came for is released once it has lingered its time, oldest first, each with when it came")]
    public void ReleasedWhenDue()
    {
        var starts = new LingeringStarts(Linger);
        var a = Start("default/q#0:1");
        var b = Start("default/q#0:2");
        var c = Start("default/q#0:3");
        starts.Add(a, 0);
        starts.Add(b, 100);
        starts.Add(c, 200);

        Assert.Empty(starts.ReleaseDue(499));
        Assert.Equal(1, starts.NextDueInMs(499));
        Assert.Equal([(a, 0L)], starts.ReleaseDue(550));
        Assert.Equal(50, starts.NextDueInMs(550)); // b came at 100: due at 600
        Assert.Equal([(b, 100L), (c, 200L)], starts.ReleaseDue(700));
        Assert.Null(starts.NextDueInMs(700));
        Assert.Empty(starts.ReleaseAll());
    }

    [Fact(DisplayName = "the next start due is the oldest one still lingering: one taken along no longer counts")]
    public void NextDueSkipsTaken()
    {
        var starts = new LingeringStarts(Linger);
        starts.Add(Start("default/q#0:1"), 0);
        starts.Add(Start("default/q#0:2"), 300);
        Assert.Equal(400, starts.NextDueInMs(100));

        starts.TryTake("default/q#0:1", out _);
        Assert.Equal(700, starts.NextDueInMs(100)); // the second came at 300: due at 800
        Assert.Empty(starts.ReleaseDue(799));
        Assert.Single(starts.ReleaseDue(800));
    }

    [Fact(DisplayName = "a second start of the same task hands back the first, and lingers from its own arrival")]
    public void SecondStartOfATask()
    {
        var starts = new LingeringStarts(Linger);
        var first = Start("default/q#0:1", attempt: 1);
        var second = Start("default/q#0:1", attempt: 2);
        Assert.Null(starts.Add(first, 0));
        Assert.Same(first, starts.Add(second, 300));
        Assert.Equal(1, starts.Count);

        Assert.Empty(starts.ReleaseDue(500)); // the first's place in line is gone with it
        Assert.Equal(300, starts.NextDueInMs(500));
        Assert.Equal([(second, 300L)], starts.ReleaseDue(800));
    }

    [Fact(DisplayName = "the node stopping releases every start at once, however young")]
    public void ReleaseAll()
    {
        var starts = new LingeringStarts(Linger);
        var a = Start("default/q#0:1");
        var b = Start("default/q#0:2");
        starts.Add(a, 1_000);
        starts.Add(b, 1_001);
        Assert.Empty(starts.ReleaseDue(1_001));
        Assert.Equal([(a, 1_000L), (b, 1_001L)], starts.ReleaseAll());
        Assert.Equal((0, 0L), (starts.Count, starts.Bytes));
    }

    [Fact(DisplayName = "bytes follow the starts in and out, however they leave; clearing drops them all and says how many")]
    public void Bytes()
    {
        var starts = new LingeringStarts(Linger);
        var a = Start("default/q#0:1", payload: 1_000);
        var b = Start("default/q#0:2", payload: 2_000);
        var c = Start("default/q#0:3", payload: 3_000);
        var again = Start("default/q#0:3", attempt: 2, payload: 10);
        starts.Add(a, 0);
        starts.Add(b, 100);
        starts.Add(c, 200);
        Assert.Equal(a.Bytes + b.Bytes + c.Bytes, starts.Bytes);

        starts.TryTake("default/q#0:2", out _);
        Assert.Equal(a.Bytes + c.Bytes, starts.Bytes);
        starts.ReleaseDue(500);
        Assert.Equal(c.Bytes, starts.Bytes);
        starts.Add(again, 300);
        Assert.Equal(again.Bytes, starts.Bytes);
        starts.Add(Start("default/q#0:4"), 400);

        Assert.Equal(2, starts.Clear());
        Assert.Equal((0, 0L), (starts.Count, starts.Bytes));
        Assert.Null(starts.NextDueInMs(400));
        Assert.Empty(starts.ReleaseAll());
    }
}

/// <summary>The task history's reads of task details, alone: how many run at once, how many wait, and which are refused.</summary>
public sealed class ReadQueueTests
{
    [Fact(DisplayName = "16 reads run at once; more wait, and start in the order they came as running ones finish")]
    public void RunsUpToTheLimit()
    {
        var reads = new ReadQueue<string>(TaskHistoryReader.MaxConcurrentReads, TaskHistoryReader.MaxWaitingReadBytes);
        for (var i = 0; i < 16; i++) Assert.Equal(ReadAdmission.Start, reads.Admit($"r{i}", 0));
        Assert.Equal(ReadAdmission.Wait, reads.Admit("w1", 0));
        Assert.Equal(ReadAdmission.Wait, reads.Admit("w2", 0));
        Assert.Equal((16, 2), (reads.Running, reads.WaitingCount));
        Assert.Equal(["w1", "w2"], reads.Waiting);

        Assert.True(reads.Finish(out var next));
        Assert.Equal("w1", next);
        Assert.True(reads.Finish(out next));
        Assert.Equal("w2", next);
        Assert.Equal((16, 0, 0L), (reads.Running, reads.WaitingCount, reads.WaitingBytes));

        Assert.False(reads.Finish(out _));
        Assert.Equal(15, reads.Running);
        Assert.Equal(ReadAdmission.Start, reads.Admit("r16", 0)); // room again: no wait
    }

    [Fact(DisplayName = "waiting reads are bounded by their payloads plus 1 KiB each: one past the bound is refused; room comes back when one starts")]
    public void WaitingBytesBounded()
    {
        const long bound = 3 * ReadQueue<string>.OverheadBytes + 100;
        var reads = new ReadQueue<string>(1, bound);
        Assert.Equal(ReadAdmission.Start, reads.Admit("running", 1_000_000)); // a running read's payload is not counted
        Assert.Equal(ReadAdmission.Wait, reads.Admit("w1", 100));
        Assert.Equal(ReadAdmission.Wait, reads.Admit("w2", 0));
        Assert.Equal(ReadAdmission.Refuse, reads.Admit("too big", 1)); // one byte over
        Assert.Equal(ReadAdmission.Wait, reads.Admit("w3", 0)); // exactly at the bound
        Assert.Equal(bound, reads.WaitingBytes);
        Assert.Equal(ReadAdmission.Refuse, reads.Admit("w4", 0));

        Assert.True(reads.Finish(out var next));
        Assert.Equal("w1", next);
        Assert.Equal(2 * ReadQueue<string>.OverheadBytes, reads.WaitingBytes);
        Assert.Equal(ReadAdmission.Wait, reads.Admit("w5", 100));
        Assert.Equal(["w2", "w3", "w5"], reads.Waiting);
    }

    [Fact(DisplayName = "the history's reads refuse a waiting read whose payload passes 64 MiB")]
    public void DefaultBound()
    {
        var reads = new ReadQueue<string>(TaskHistoryReader.MaxConcurrentReads, TaskHistoryReader.MaxWaitingReadBytes);
        for (var i = 0; i < TaskHistoryReader.MaxConcurrentReads; i++) reads.Admit($"r{i}", 0);
        Assert.Equal(ReadAdmission.Refuse, reads.Admit("huge", (64L << 20) - ReadQueue<string>.OverheadBytes + 1));
        Assert.Equal(ReadAdmission.Wait, reads.Admit("fits", (64L << 20) - ReadQueue<string>.OverheadBytes));
        Assert.Equal(ReadAdmission.Refuse, reads.Admit("one more", 0));
    }
}
