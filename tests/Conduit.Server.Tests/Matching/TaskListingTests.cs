using Conduit.Protocol;
using Conduit.Server.History;
using Conduit.Server.Matching;
using Xunit;

namespace Conduit.Server.Tests.Matching;

/// <summary>Listing a queue's tasks by state (docs/results.md): a partition's page from memory, the cursor, the frontend's merge.</summary>
public sealed class TaskListingTests
{
    private static TaskList List(EngineHarness h, TaskStatus state, int limit = 100, string? after = null) =>
        Assert.IsType<TaskList>(h.Call(new ListTasks("q", state, limit, after)));

    private static string[] Ids(TaskList list) => list.Items.Select(i => i.TaskId).ToArray();

    [Fact(DisplayName = "each live state lists exactly its tasks: scheduled, ready, running (with its worker), failed, dead-lettered")]
    public void EachState()
    {
        var h = new EngineHarness(new PartitionOptions { RetryInitialMs = 60_000, RetryJitter = 0 });
        var running = h.Enqueue("run").TaskId;
        var failing = h.Enqueue("fail", maxAttempts: 3).TaskId;
        var dying = h.Enqueue("die", maxAttempts: 1).TaskId;
        var worker = new object();
        h.Send(worker, new Poll("q", 3, 0, LeaseMs: 3_600_000, Worker: "host-1:42"));
        var leased = h.RepliesTo(worker).OfType<Polled>().Single().Tasks;
        Assert.Equal(3, leased.Length);
        Assert.IsType<Failed>(h.Call(new Fail(leased.Single(t => t.TaskId == failing).LeaseToken, "boom")));
        Assert.IsType<Failed>(h.Call(new Fail(leased.Single(t => t.TaskId == dying).LeaseToken, "fatal")));
        var ready = h.Enqueue("ready").TaskId;
        var scheduled = h.Enqueue("later", delayMs: 3_600_000).TaskId;

        var run = Assert.Single(List(h, TaskStatus.Running).Items);
        Assert.Equal((running, TaskStatus.Running, 1, "host-1:42", h.Now), (run.TaskId, run.Status, run.Attempt, run.Worker, run.AtUnixMs));
        var failed = Assert.Single(List(h, TaskStatus.Failed).Items);
        Assert.Equal((failing, "boom", 1), (failed.TaskId, failed.Reason, failed.Attempt));
        Assert.Equal(h.Now + 60_000, failed.AtUnixMs);
        var dead = Assert.Single(List(h, TaskStatus.DeadLettered).Items);
        Assert.Equal((dying, "fatal"), (dead.TaskId, dead.Reason));
        Assert.Equal([ready], Ids(List(h, TaskStatus.Ready)));
        var later = Assert.Single(List(h, TaskStatus.Scheduled).Items);
        Assert.Equal((scheduled, h.Now + 3_600_000), (later.TaskId, later.AtUnixMs));

        // When the retry is due, the failed task is ready (listed once, before and after its payload is fetched).
        h.Advance(60_000);
        h.Engine.OnTick();
        Assert.Equal(new[] { failing, ready }.Order(StringComparer.Ordinal).ToArray(), Ids(List(h, TaskStatus.Ready)).Order(StringComparer.Ordinal).ToArray());
        Assert.Empty(List(h, TaskStatus.Failed).Items);

        // A running task cancelled is settled, though its worker has yet to hear it: no longer listed as running.
        Assert.IsType<Cancelled>(h.Call(new CancelTask(running)));
        Assert.Empty(List(h, TaskStatus.Running).Items);
    }

    private static readonly TaskStatus[] LiveStates = [TaskStatus.Scheduled, TaskStatus.Ready, TaskStatus.Running, TaskStatus.Failed, TaskStatus.DeadLettered];

    /// <summary>Every task is listed under the state GetTask gives it (settled ones under none of the live states), and once.</summary>
    private static void AssertAgreesWithGetTask(EngineHarness h, IEnumerable<string> ids)
    {
        var listed = LiveStates.SelectMany(state => List(h, state).Items).ToList();
        Assert.Equal(listed.Count, listed.Select(t => t.TaskId).Distinct().Count());
        foreach (var id in ids)
        {
            var status = Assert.IsType<TaskInfo>(h.Call(new GetTask(id))).Status;
            var where = listed.Where(t => t.TaskId == id).Select(t => t.Status).ToList();
            if (status is TaskStatus.Completed or TaskStatus.Cancelled) Assert.Empty(where);
            else Assert.Equal([status], where);
        }
    }

    [Fact(DisplayName = "while writes are in flight a listing agrees with GetTask: a failure, an expiry, a cancel and a completion not yet durable")]
    public void AgreesWhileWritesAreInFlight()
    {
        var h = new EngineHarness(new PartitionOptions { RetryInitialMs = 60_000, RetryJitter = 0, LeaseTimeoutMs = 1_000 });
        var ids = Enumerable.Range(0, 6).Select(i => h.Enqueue($"t{i}", delayMs: i == 5 ? 3_600_000 : 0).TaskId).ToList();
        var leased = h.Poll(max: 4, leaseMs: 1_000);
        Assert.Equal(4, leased.Length);
        AssertAgreesWithGetTask(h, ids);

        h.AutoFlush = false;
        var caller = new object();
        h.Send(caller, new Fail(leased[0].LeaseToken, "boom"));
        h.Send(caller, new Complete(leased[1].LeaseToken));
        h.Send(caller, new CancelTask(leased[2].TaskId));
        h.Send(caller, new CancelTask(ids[5]));
        AssertAgreesWithGetTask(h, ids);
        h.Advance(1_001);
        h.Engine.OnTick(); // leased[3] expires; its retry is not durable either
        AssertAgreesWithGetTask(h, ids);

        h.AutoFlush = true;
        h.Settle();
        AssertAgreesWithGetTask(h, ids);
        Assert.Equal([leased[0].TaskId, leased[3].TaskId], Ids(List(h, TaskStatus.Failed)).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact(DisplayName = "pages follow the cursor in task id order, each task once, until Next is null")]
    public void Paging()
    {
        var h = new EngineHarness();
        var ids = Enumerable.Range(0, 25).Select(i => h.Enqueue($"t{i}", priority: i % 10).TaskId).ToList();
        var seen = new List<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = List(h, TaskStatus.Ready, limit: 10, after: after);
            Assert.True(page.Items.Length <= 10);
            seen.AddRange(Ids(page));
            after = page.Next;
            pages++;
        } while (after is not null);
        Assert.Equal(3, pages);
        Assert.Equal(ids.OrderBy(id => TaskId.TryParse(id, out var t) ? t.Seq : 0).ToArray(), seen.ToArray());
    }

    [Theory(DisplayName = "a bad listing is refused with a typed error: state, limit, a cursor of another queue or none at all")]
    [InlineData(0, 10, null)]
    [InlineData(9, 10, null)]
    [InlineData(2, 0, null)]
    [InlineData(2, ListTasks.MaxLimit + 1, null)]
    [InlineData(2, 10, "default/other#0:16")]
    [InlineData(2, 10, "not a cursor")]
    [InlineData(4, 10, "default/q#0:16")] // a settled listing's cursor has a time
    [InlineData(4, 10, "-5,default/q#0:16")]
    public void Refused(int state, int limit, string? after)
    {
        var h = new EngineHarness();
        var refused = Assert.IsType<Rejected>(h.Call(new ListTasks("q", (TaskStatus)state, limit, after)));
        Assert.Equal(ErrorCode.InvalidArgument, refused.Code);
        Assert.Empty(h.SettledListings);
    }

    [Fact(DisplayName = "completed and cancelled go to the task history, or are refused as HistoryOff without one")]
    public void Settled()
    {
        var h = new EngineHarness();
        var asker = new object();
        h.Send(asker, new ListTasks("q", TaskStatus.Completed, 10, "1700000000000,default/q#0:21"));
        Assert.Equal(TaskStatus.Completed, Assert.Single(h.SettledListings).State);
        Assert.Empty(h.RepliesTo(asker)); // the history answers

        var off = new EngineHarness { KeepsHistory = false };
        Assert.Equal(ErrorCode.HistoryOff, Assert.IsType<Rejected>(off.Call(new ListTasks("q", TaskStatus.Cancelled))).Code);
    }

    [Fact(DisplayName = "a poll with a worker name that is not printable ASCII is refused and leases nothing")]
    public void BadWorkerName()
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        foreach (var name in new[] { "", "evil\nline", new string('w', WorkerName.MaxLength + 1), "naïve" })
            Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<Rejected>(h.Call(new Poll("q", 1, 0, Worker: name))).Code);
        Assert.Empty(List(h, TaskStatus.Running).Items);
        Assert.Single(h.Poll());
    }

    [Fact(DisplayName = "the worker's name goes with its delivery's start and end to the task history")]
    public void WorkerInHistory()
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        var worker = new object();
        h.Send(worker, new Poll("q", 1, 0, Worker: "w-7"));
        var task = h.RepliesTo(worker).OfType<Polled>().Single().Tasks.Single();
        Assert.Equal("w-7", Assert.Single(h.HistoryNow).Worker);
        Assert.IsType<Completed>(h.Call(new Complete(task.LeaseToken)));
        var end = Assert.Single(h.HistoryAfterWrites);
        Assert.Equal((HistoryChange.Finished, "w-7"), (end.Change, end.Worker));
    }

    private static long Seq(long counter) => TaskId.MakeSeq(counter, 5);

    private static TaskSummary Item(int partition, long counter) => new(new TaskId(PartitionId.Of("q", partition), Seq(counter)).ToString(), TaskStatus.Ready, 5, 0, 0);

    private static TaskList PageOf(params TaskSummary[] items) => new("q", TaskStatus.Ready, items, null);

    [Fact(DisplayName = "the merge goes partition by partition and never past a page that was cut")]
    public void Merge()
    {
        var list = new ListTasks("q", TaskStatus.Ready, 3);
        // Partition 1's page was cut after its second task: the merged page ends there, whatever partition 2 has.
        var cut = PageOf(Item(1, 21), Item(1, 37)) with { Next = Item(1, 37).TaskId };
        var merged = TaskListing.Merge(list, [(2, PageOf(Item(2, 5))), (0, PageOf()), (1, cut)]);
        Assert.Equal([Item(1, 21).TaskId, Item(1, 37).TaskId], Ids(merged));
        Assert.Equal(Item(1, 37).TaskId, merged.Next);

        // The limit reached exactly at the end of a partition: more only if a later partition has tasks.
        var full = TaskListing.Merge(list, [(0, PageOf(Item(0, 1), Item(0, 2), Item(0, 3))), (1, PageOf(Item(1, 4)))]);
        Assert.Equal(Item(0, 3).TaskId, full.Next);
        var last = TaskListing.Merge(list, [(0, PageOf(Item(0, 1), Item(0, 2), Item(0, 3))), (1, PageOf())]);
        Assert.Null(last.Next);

        // The limit reached inside a partition's page.
        var inside = TaskListing.Merge(list with { Limit = 2 }, [(0, PageOf(Item(0, 1))), (1, PageOf(Item(1, 4), Item(1, 5)))]);
        Assert.Equal([Item(0, 1).TaskId, Item(1, 4).TaskId], Ids(inside));
        Assert.Equal(Item(1, 4).TaskId, inside.Next);
    }

    [Fact(DisplayName = "a partition before the cursor's lists nothing; the cursor's partition lists after it; a later one lists from its start")]
    public void CursorAcrossPartitions()
    {
        var list = new ListTasks("q", TaskStatus.Ready, 10, Item(1, 2).TaskId);
        Assert.Null(TaskListing.Check(list, out var cursor));
        IEnumerable<ListedTask> Candidates(int p) => new long[] { 3, 1, 2 }.Select(c => new ListedTask(Seq(c), 0, 0));
        Assert.Empty(TaskListing.Page(list, cursor, PartitionId.Of("q", 0), Candidates(0)).Items);
        Assert.Equal([Item(1, 3).TaskId], Ids(TaskListing.Page(list, cursor, PartitionId.Of("q", 1), Candidates(1))));
        Assert.Equal(3, TaskListing.Page(list, cursor, PartitionId.Of("q", 2), Candidates(2)).Items.Length);
    }
}
