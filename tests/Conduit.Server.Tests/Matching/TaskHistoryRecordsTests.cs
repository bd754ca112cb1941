using System.Text;
using Conduit.Protocol;
using Conduit.Server.History;
using Conduit.Server.Matching;
using Xunit;

namespace Conduit.Server.Tests.Matching;

/// <summary>What the engine tells the task history (docs/results.md): each delivery's start, end and the settlement, with payload and result.</summary>
public sealed class TaskHistoryRecordsTests
{
    [Fact(DisplayName = "a delivery's start brings the payload at once; a failure, then a completion with its result, go with their writes")]
    public void StartFailComplete()
    {
        var h = new EngineHarness(new PartitionOptions { RetryInitialMs = 10, RetryJitter = 0 });
        var id = h.Enqueue("in", maxAttempts: 3).TaskId;
        var first = Assert.Single(h.Poll());
        var started = Assert.Single(h.HistoryNow);
        Assert.Equal((HistoryChange.Started, id, 1, "in"), (started.Change, started.TaskId, started.Attempt, Encoding.UTF8.GetString(started.Payload!)));

        Assert.IsType<Failed>(h.Call(new Fail(first.LeaseToken, "boom")));
        var failed = Assert.Single(h.HistoryAfterWrites);
        Assert.Equal((HistoryChange.AttemptEnded, AttemptOutcome.Failed, "boom", 1), (failed.Change, failed.Outcome, failed.Reason, failed.Attempt));
        Assert.Equal(started.AtMs, failed.StartedAtMs);

        h.Advance(10);
        var second = Assert.Single(h.Poll());
        Assert.IsType<Completed>(h.Call(new Complete(second.LeaseToken, Output: Encoding.UTF8.GetBytes("out"))));
        var done = h.HistoryAfterWrites[^1];
        Assert.Equal((HistoryChange.Finished, TaskStatus.Completed, AttemptOutcome.Completed, 2, "out"),
            (done.Change, done.Status, done.Outcome, done.Attempt, Encoding.UTF8.GetString(done.Output!)));
    }

    [Fact(DisplayName = "a result over the limit is refused and changes nothing; in a batch only that lease is refused")]
    public void ResultTooLarge()
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        h.Enqueue("b");
        var tasks = h.Poll(max: 2);
        var tooBig = new byte[Complete.MaxOutputBytes + 1];
        var refused = Assert.IsType<Rejected>(h.Call(new Complete(tasks[0].LeaseToken, Output: tooBig)));
        Assert.Equal(ErrorCode.InvalidArgument, refused.Code);
        Assert.Empty(h.HistoryAfterWrites);

        var batch = Assert.IsType<CompletedBatch>(h.Call(new Complete(tasks[0].LeaseToken, [tasks[1].LeaseToken], Output: null, MoreOutputs: [tooBig])));
        Assert.Null(batch.Refusals[0]);
        Assert.Equal(ErrorCode.InvalidArgument, batch.Refusals[1]!.Code);
        Assert.Single(h.HistoryAfterWrites);
        Assert.IsType<Completed>(h.Call(new Complete(tasks[1].LeaseToken, Output: [1, 2, 3])));

        // More results than more leases: the whole request is refused.
        h.Enqueue("c");
        var c = Assert.Single(h.Poll());
        Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<Rejected>(h.Call(new Complete(c.LeaseToken, null, null, [[1]]))).Code);
    }

    [Fact(DisplayName = "an expired lease ends its attempt as Expired; the last one dead-letters the task")]
    public void Expiry()
    {
        var h = new EngineHarness(new PartitionOptions { RetryInitialMs = 10, RetryJitter = 0, LeaseTimeoutMs = 1_000 });
        h.Enqueue("a", maxAttempts: 1);
        Assert.Single(h.Poll());
        h.Advance(1_001);
        h.Engine.OnTick();
        h.Settle();
        var end = Assert.Single(h.HistoryAfterWrites);
        Assert.Equal((HistoryChange.Finished, TaskStatus.DeadLettered, AttemptOutcome.Expired), (end.Change, end.Status, end.Outcome));
    }

    [Fact(DisplayName = "without a task history the engine makes no records")]
    public void Off()
    {
        var h = new EngineHarness { KeepsHistory = false };
        h.Enqueue("a");
        var t = Assert.Single(h.Poll());
        Assert.IsType<Completed>(h.Call(new Complete(t.LeaseToken, Output: [1])));
        Assert.Empty(h.HistoryNow);
        Assert.Empty(h.HistoryAfterWrites);
    }
}
