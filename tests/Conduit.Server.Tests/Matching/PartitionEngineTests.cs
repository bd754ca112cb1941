using Conduit.Protocol;
using Conduit.Server.Matching;
using Conduit.Server.Persistence;
using Xunit;
using static Conduit.Server.Tests.Matching.EngineHarness;

namespace Conduit.Server.Tests.Matching;

public sealed class PartitionEngineTests
{
    [Fact(DisplayName = "a task enqueued while a poller waits is handed to it as soon as it is durable")]
    public void SyncMatch()
    {
        var h = new EngineHarness { AutoFlush = false };
        var worker = new object();
        h.Send(worker, new Poll("q", 1, 10_000));
        var producer = new object();
        h.Send(producer, new Enqueue("q", Spec("a")));
        Assert.Empty(h.RepliesTo(worker)); // not durable yet: nothing handed out, nothing acknowledged
        Assert.Empty(h.RepliesTo(producer));
        h.Flush();
        h.Settle();
        Assert.Equal("a", Text(Assert.Single(h.LastReplyTo<Polled>(worker).Tasks)));
        Assert.Empty(h.PollDeadlines); // answered: its deadline timer is gone
        Assert.False(h.LastReplyTo<Enqueued>(producer).Duplicate);
    }

    [Fact(DisplayName = "a poll with nothing to take answers empty when its wait runs out")]
    public void PollTimesOut()
    {
        var h = new EngineHarness();
        var worker = new object();
        h.Send(worker, new Poll("q", 1, 1_000));
        Assert.Empty(h.RepliesTo(worker));
        h.Advance(1_000);
        Assert.Empty(h.LastReplyTo<Polled>(worker).Tasks);
        Assert.Equal(0, h.Engine.WaitingPollers);
    }

    [Fact(DisplayName = "ready tasks go out by priority, then by age")]
    public void PriorityThenAge()
    {
        var h = new EngineHarness();
        h.Enqueue("low-1", priority: 1);
        h.Enqueue("high-1", priority: 8);
        h.Enqueue("low-2", priority: 1);
        h.Enqueue("high-2", priority: 8);
        h.Enqueue("mid", priority: 5);
        var order = h.Poll(max: 10).Select(Text).ToArray();
        Assert.Equal(["high-1", "high-2", "mid", "low-1", "low-2"], order);
    }

    [Fact(DisplayName = "a backlog far larger than the window is paged in and drains by priority, then age")]
    public void PagedBacklogDrainsInOrder()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 10, ReadPageEvents = 3 });
        var expected = new List<(int Priority, int Index)>();
        var random = new Random(1);
        for (var i = 0; i < 500; i++)
        {
            var p = random.Next(0, 10);
            h.Enqueue($"{p}:{i}", priority: p);
            expected.Add((p, i));
        }
        Assert.True(h.Engine.WindowCount <= 10 + 64, $"window holds {h.Engine.WindowCount}");
        var got = new List<string>();
        for (var guard = 0; guard < 1000 && got.Count < 500; guard++)
        {
            var batch = h.Poll(max: 7);
            Assert.True(h.Engine.WindowCount <= 10 + 64);
            foreach (var t in batch)
            {
                got.Add(Text(t));
                h.Call(new Complete(t.LeaseToken));
            }
        }
        var want = expected.OrderByDescending(e => e.Priority).ThenBy(e => e.Index).Select(e => $"{e.Priority}:{e.Index}");
        Assert.Equal(want, got);
    }

    [Fact(DisplayName = "a repeated idempotency key returns the original task id, marked duplicate, and adds nothing")]
    public void IdempotencyKey()
    {
        var h = new EngineHarness();
        var first = h.Enqueue("a", key: "k1");
        var again = h.Enqueue("b", key: "k1");
        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.TaskId, again.TaskId);
        Assert.Equal(1, h.Engine.Stats().Ready);
    }

    [Fact(DisplayName = "a duplicate in the same batch as its original is answered once the original is durable")]
    public void DuplicateWithinBatch()
    {
        var h = new EngineHarness();
        var reply = (EnqueuedBatch)h.Call(new EnqueueBatch("q", [Spec("a", key: "k"), Spec("b", key: "k"), Spec("c")]));
        Assert.Equal(reply.Results[0].TaskId, reply.Results[1].TaskId);
        Assert.True(reply.Results[1].Duplicate);
        Assert.Equal(2, h.Engine.Stats().Ready);
    }

    [Theory(DisplayName = "bad enqueues get a typed refusal and change nothing")]
    [InlineData("empty", ErrorCode.InvalidArgument)]
    [InlineData("huge", ErrorCode.PayloadTooLarge)]
    [InlineData("priority", ErrorCode.InvalidArgument)]
    [InlineData("attempts", ErrorCode.InvalidArgument)]
    [InlineData("delay", ErrorCode.InvalidArgument)]
    [InlineData("delay-overflow", ErrorCode.InvalidArgument)]
    [InlineData("delay-past-a-year", ErrorCode.InvalidArgument)]
    [InlineData("run-at-max", ErrorCode.InvalidArgument)]
    [InlineData("run-at-negative", ErrorCode.InvalidArgument)]
    [InlineData("headers-bytes", ErrorCode.InvalidArgument)]
    [InlineData("headers-count", ErrorCode.InvalidArgument)]
    [InlineData("key-bytes", ErrorCode.InvalidArgument)]
    public void BadEnqueue(string what, ErrorCode code)
    {
        var h = new EngineHarness(new PartitionOptions { MaxPayloadBytes = 100 });
        var spec = what switch
        {
            "empty" => new TaskSpec([]),
            "huge" => new TaskSpec(new byte[101]),
            "priority" => new TaskSpec([1], Priority: 10),
            "attempts" => new TaskSpec([1], MaxAttempts: -1),
            "delay-overflow" => new TaskSpec([1], DelayMs: long.MaxValue),
            "delay-past-a-year" => new TaskSpec([1], DelayMs: 366L * 86_400_000),
            "run-at-max" => new TaskSpec([1], RunAtUnixMs: long.MaxValue),
            "run-at-negative" => new TaskSpec([1], RunAtUnixMs: -1),
            // 30,000 characters but 90,000 bytes: limits count bytes.
            "headers-bytes" => new TaskSpec([1], Headers: new() { ["h"] = new string('€', 30_000) }),
            "headers-count" => new TaskSpec([1], Headers: Enumerable.Range(0, 65).ToDictionary(i => $"h{i}", _ => "v")),
            "key-bytes" => new TaskSpec([1], IdempotencyKey: new string('€', 100)),
            _ => new TaskSpec([1], DelayMs: -5),
        };
        // In a batch with a good task: the whole batch is refused.
        var reply = h.Call(new EnqueueBatch("q", [Spec("good"), spec]));
        Assert.Equal(code, Assert.IsType<Rejected>(reply).Code);
        Assert.Empty(h.Writes);
        Assert.Equal(0, h.Engine.Stats().Ready);
    }

    [Fact(DisplayName = "a failure retries with backoff; after max attempts the task is dead-lettered, and requeue brings it back")]
    public void RetryThenDeadLetterThenRequeue()
    {
        var h = new EngineHarness(new PartitionOptions { RetryInitialMs = 1000, RetryJitter = 0 });
        var id = h.Enqueue("a", maxAttempts: 2).TaskId;
        var first = Assert.Single(h.Poll());
        var failed = Assert.IsType<Failed>(h.Call(new Fail(first.LeaseToken, "boom")));
        Assert.Equal(TaskStatus.Failed, failed.Next);
        Assert.Equal(h.Now + 1000, failed.RetryAtUnixMs);
        Assert.Empty(h.Poll()); // backing off
        h.Advance(999);
        Assert.Empty(h.Poll());
        h.Advance(1);
        var second = Assert.Single(h.Poll());
        Assert.Equal(2, second.Attempt);
        Assert.Equal(TaskStatus.DeadLettered, Assert.IsType<Failed>(h.Call(new Fail(second.LeaseToken, "boom again"))).Next);
        var dead = Assert.Single(Assert.IsType<DeadLetters>(h.Call(new ListDeadLetters("q"))).Items);
        Assert.Equal((id, "boom again"), (dead.TaskId, dead.Reason));
        Assert.Equal(TaskStatus.DeadLettered, Assert.IsType<TaskInfo>(h.Call(new GetTask(id))).Status);
        Assert.Equal(1, Assert.IsType<DeadLettersRequeued>(h.Call(new RequeueDeadLetters("q"))).Count);
        h.Advance(1);
        var third = Assert.Single(h.Poll());
        Assert.Equal(1, third.Attempt);
        Assert.IsType<Completed>(h.Call(new Complete(third.LeaseToken)));
        Assert.Empty(Assert.IsType<DeadLetters>(h.Call(new ListDeadLetters("q"))).Items);
    }

    [Fact(DisplayName = "a non-retryable failure dead-letters at once")]
    public void NonRetryable()
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        var t = Assert.Single(h.Poll());
        Assert.Equal(TaskStatus.DeadLettered, Assert.IsType<Failed>(h.Call(new Fail(t.LeaseToken, "bad input", Retryable: false))).Next);
    }

    [Fact(DisplayName = "an expired lease is redelivered as the next attempt, and the old token is refused")]
    public void LeaseExpiry()
    {
        var h = new EngineHarness(new PartitionOptions { RetryInitialMs = 100, RetryJitter = 0 });
        h.Enqueue("a");
        var first = Assert.Single(h.Poll(leaseMs: 500));
        h.Advance(499);
        Assert.IsType<HeartbeatAck>(h.Call(new Heartbeat(first.LeaseToken))); // extends to now + 500
        h.Advance(499);
        Assert.Empty(h.Poll());
        h.Advance(1);
        h.Advance(100);
        var second = Assert.Single(h.Poll());
        Assert.Equal(2, second.Attempt);
        Assert.Equal(ErrorCode.LeaseExpired, Assert.IsType<Rejected>(h.Call(new Complete(first.LeaseToken))).Code);
        Assert.IsType<Completed>(h.Call(new Complete(second.LeaseToken)));
    }

    [Fact(DisplayName = "completing twice, or with a malformed token, is refused with UnknownLease")]
    public void DoubleComplete()
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        var t = Assert.Single(h.Poll());
        Assert.IsType<Completed>(h.Call(new Complete(t.LeaseToken)));
        Assert.Equal(ErrorCode.UnknownLease, Assert.IsType<Rejected>(h.Call(new Complete(t.LeaseToken))).Code);
        Assert.Equal(ErrorCode.UnknownLease, Assert.IsType<Rejected>(h.Call(new Complete("nonsense"))).Code);
        Assert.Equal(ErrorCode.UnknownLease, Assert.IsType<Rejected>(h.Call(new Heartbeat(t.LeaseToken))).Code);
        Assert.Equal(TaskStatus.Completed, Assert.IsType<TaskInfo>(h.Call(new GetTask(t.TaskId))).Status);
    }

    [Fact(DisplayName = "a worker completes a whole poll with one request and one journal write, and learns which leases were refused")]
    public void CompleteBatch()
    {
        var h = new EngineHarness();
        foreach (var text in new[] { "a", "b", "c", "d" }) h.Enqueue(text);
        var tasks = h.Poll(max: 4);
        Assert.IsType<Completed>(h.Call(new Complete(tasks[1].LeaseToken)));
        var events = h.Journal.Count;
        var reply = Assert.IsType<CompletedBatch>(h.Call(new Complete(tasks[0].LeaseToken,
            [tasks[1].LeaseToken, "nonsense", tasks[2].LeaseToken, tasks[3].LeaseToken, tasks[3].LeaseToken])));
        Assert.Equal(events + 1, h.Journal.Count);
        Assert.Equal(3, h.Journal[^1].Batch.Entries.Count(e => e.Kind == EntryKind.Completed));
        Assert.Equal([null, ErrorCode.UnknownLease, ErrorCode.UnknownLease, null, null, ErrorCode.UnknownLease],
            reply.Refusals.Select(r => r?.Code));
        foreach (var t in tasks) Assert.Equal(TaskStatus.Completed, Assert.IsType<TaskInfo>(h.Call(new GetTask(t.TaskId))).Status);
        Assert.Empty(h.Poll(max: 10));
    }

    [Fact(DisplayName = "cancelling a running task tells its worker through the heartbeat")]
    public void CancelRunning()
    {
        var h = new EngineHarness();
        var id = h.Enqueue("a").TaskId;
        var t = Assert.Single(h.Poll());
        Assert.False(Assert.IsType<HeartbeatAck>(h.Call(new Heartbeat(t.LeaseToken))).CancelRequested);
        Assert.IsType<Cancelled>(h.Call(new CancelTask(id)));
        Assert.True(Assert.IsType<HeartbeatAck>(h.Call(new Heartbeat(t.LeaseToken))).CancelRequested);
        Assert.Equal(TaskStatus.Cancelled, Assert.IsType<TaskInfo>(h.Call(new GetTask(id))).Status);
        Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<Rejected>(h.Call(new CancelTask(id))).Code);
    }

    [Fact(DisplayName = "a cancelled ready task, delayed task or backlog task is never delivered")]
    public void CancelQueued()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 2 });
        var ids = Enumerable.Range(0, 6).Select(i => h.Enqueue($"t{i}").TaskId).ToList();
        var delayed = h.Enqueue("later", delayMs: 1000).TaskId;
        Assert.IsType<Cancelled>(h.Call(new CancelTask(ids[0]))); // in the window
        Assert.IsType<Cancelled>(h.Call(new CancelTask(ids[4]))); // still only in the journal
        Assert.IsType<Cancelled>(h.Call(new CancelTask(delayed)));
        Assert.Equal(4, h.Engine.Stats().Ready);
        h.Advance(2000);
        var got = h.Poll(max: 10).Select(Text).ToList();
        got.AddRange(h.Poll(max: 10).Select(Text));
        Assert.Equal(["t1", "t2", "t3", "t5"], got);
        Assert.Equal(ErrorCode.TaskNotFound, Assert.IsType<Rejected>(h.Call(new CancelTask("default/q#0:999999"))).Code);
    }

    [Fact(DisplayName = "a delayed task is scheduled until its time, then ready")]
    public void Delayed()
    {
        var h = new EngineHarness();
        var id = h.Enqueue("later", delayMs: 5_000).TaskId;
        Assert.Equal(TaskStatus.Scheduled, Assert.IsType<TaskInfo>(h.Call(new GetTask(id))).Status);
        Assert.Equal(1, h.Engine.Stats().Delayed);
        Assert.Empty(h.Poll());
        h.Advance(5_000);
        Assert.Equal("later", Text(Assert.Single(h.Poll())));
    }

    [Fact(DisplayName = "a paused queue accepts enqueues but dispatches nothing until resumed")]
    public void Pause()
    {
        var h = new EngineHarness();
        Assert.True(Assert.IsType<QueueStateChanged>(h.Call(new PauseQueue("q"))).Paused);
        h.Enqueue("a");
        var worker = new object();
        h.Send(worker, new Poll("q", 1, 10_000));
        Assert.Empty(h.RepliesTo(worker));
        Assert.True(h.Engine.Stats().Paused);
        h.Call(new ResumeQueue("q"));
        Assert.Single(h.LastReplyTo<Polled>(worker).Tasks);
    }

    [Fact(DisplayName = "purge drops ready, delayed and dead tasks but lets running ones finish")]
    public void Purge()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 2 });
        h.Enqueue("running");
        var running = Assert.Single(h.Poll());
        for (var i = 0; i < 5; i++) h.Enqueue($"r{i}");
        h.Enqueue("later", delayMs: 1000);
        Assert.Equal(6, Assert.IsType<QueuePurged>(h.Call(new PurgeQueue("q"))).Purged);
        var stats = h.Engine.Stats();
        Assert.Equal((0L, 0L, 1L), (stats.Ready, stats.Delayed, stats.Running));
        h.Advance(2000);
        Assert.Empty(h.Poll(max: 10));
        Assert.IsType<Completed>(h.Call(new Complete(running.LeaseToken)));
        h.Enqueue("after");
        Assert.Equal("after", Text(Assert.Single(h.Poll())));
    }

    [Fact(DisplayName = "past the outstanding-write bound an enqueue is refused with Overloaded at once")]
    public void Overloaded()
    {
        var h = new EngineHarness(new PartitionOptions { OutstandingWriteLimit = 3 }) { AutoFlush = false };
        h.Send(new object(), new EnqueueBatch("q", [Spec("a"), Spec("b"), Spec("c")]));
        Assert.Equal(ErrorCode.Overloaded, Assert.IsType<Rejected>(h.Call(new Enqueue("q", Spec("d")))).Code);
        h.Flush();
        h.AutoFlush = true;
        Assert.IsType<Enqueued>(h.Call(new Enqueue("q", Spec("d"))));
    }

    [Fact(DisplayName = "after a restart a task that was running is held for one lease timeout, then redelivered; its worker can still finish it")]
    public void RecoveryHoldsRunningTasks()
    {
        var h = new EngineHarness(new PartitionOptions { LeaseTimeoutMs = 1000, RetryInitialMs = 10, RetryJitter = 0 });
        h.Enqueue("a");
        h.Enqueue("b");
        var a = Assert.Single(h.Poll());
        var b = Assert.Single(h.Poll());
        h.Restart();
        Assert.Empty(h.Poll()); // both possibly running
        h.Advance(600);
        Assert.IsType<HeartbeatAck>(h.Call(new Heartbeat(a.LeaseToken))); // a's worker re-establishes its lease
        h.Advance(400); // b was not claimed within one lease timeout: it fails over to a retry
        h.Advance(10);
        var again = Assert.Single(h.Poll(max: 5));
        Assert.Equal(b.TaskId, again.TaskId);
        Assert.Equal(2, again.Attempt);
        Assert.IsType<Completed>(h.Call(new Complete(a.LeaseToken)));
    }

    [Fact(DisplayName = "completed tasks stay completed across a restart, and the backlog is paged in again")]
    public void RecoveryKeepsCompletions()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 4 });
        var ids = Enumerable.Range(0, 20).Select(i => h.Enqueue($"t{i}").TaskId).ToList();
        foreach (var t in h.Poll(max: 3)) h.Call(new Complete(t.LeaseToken));
        h.Restart();
        var got = new List<string>();
        for (var i = 0; i < 20; i++) got.AddRange(h.Poll(max: 5).Select(t => { h.Call(new Complete(t.LeaseToken)); return Text(t); }));
        Assert.Equal(Enumerable.Range(3, 17).Select(i => $"t{i}"), got);
    }

    [Fact(DisplayName = "snapshots let the journal be cut below the oldest unsettled task")]
    public void SnapshotCleansJournal()
    {
        var h = new EngineHarness(new PartitionOptions { SnapshotEvery = 10, ReadyWindow = 8 });
        for (var round = 0; round < 100; round++)
        {
            h.Enqueue($"r{round}");
            foreach (var t in h.Poll(max: 5)) h.Call(new Complete(t.LeaseToken));
        }
        Assert.True(h.Snapshots >= 10);
        Assert.True(h.Journal.Count <= 10 + 3, $"journal holds {h.Journal.Count} events");
        h.Enqueue("after");
        var before = h.Engine.Stats();
        h.Restart();
        Assert.Equal(before, h.Engine.Stats());
        Assert.Equal("after", Text(Assert.Single(h.Poll(max: 5))));
    }

    [Fact(DisplayName = "recovery from a snapshot plus the events after it matches the state before the restart")]
    public void SnapshotAndRecovery()
    {
        var h = new EngineHarness(new PartitionOptions { SnapshotEvery = 10, ReadyWindow = 8 });
        var keep = h.Enqueue("old-delayed", delayMs: 1_000_000).TaskId;
        for (var round = 0; round < 30; round++)
        {
            h.Enqueue($"r{round}");
            foreach (var t in h.Poll(max: 5)) h.Call(new Complete(t.LeaseToken));
        }
        Assert.True(h.Snapshots > 0);
        for (var i = 0; i < 50; i++) h.Enqueue($"n{i}");
        var before = h.Engine.Stats();
        h.Restart();
        var after = h.Engine.Stats();
        Assert.Equal((before.Ready, before.Delayed, before.Running), (after.Ready, after.Delayed, after.Running));
        Assert.Equal(TaskStatus.Scheduled, Assert.IsType<TaskInfo>(h.Call(new GetTask(keep))).Status);
        var drained = 0;
        for (var i = 0; i < 30 && drained < 50; i++)
            foreach (var t in h.Poll(max: 10)) { h.Call(new Complete(t.LeaseToken)); drained++; }
        Assert.Equal(50, drained);
    }

    [Fact(DisplayName = "the durable state rebuilt from a snapshot equals the one rebuilt from all events")]
    public void SnapshotRoundTrip()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 4 });
        for (var i = 0; i < 12; i++) h.Enqueue($"t{i}", priority: i % 10, key: $"k{i}", delayMs: i % 3 == 0 ? 5000 : 0);
        var leased = h.Poll(max: 4);
        h.Call(new Fail(leased[0].LeaseToken, "x"));
        h.Call(new Complete(leased[1].LeaseToken));
        var fromEvents = new DurablePartitionState();
        foreach (var (seqNr, batch) in h.Journal) fromEvents.Apply(batch, seqNr);
        var snapshot = fromEvents.ToSnapshot();
        var bytes = MemoryPack.MemoryPackSerializer.Serialize(snapshot);
        var restored = DurablePartitionState.FromSnapshot(MemoryPack.MemoryPackSerializer.Deserialize<PartitionSnapshot>(bytes)!, fromEvents.LastEventSeqNr);
        Assert.Equal(MemoryPack.MemoryPackSerializer.Serialize(snapshot), MemoryPack.MemoryPackSerializer.Serialize(restored.ToSnapshot()));
        Assert.Equal(fromEvents.TotalFresh, restored.TotalFresh);
        Assert.Equal(fromEvents.Exceptions.Count, restored.Exceptions.Count);
        foreach (var state in Enum.GetValues<TaskState>())
        {
            Assert.Equal(fromEvents.Exceptions.Values.Count(e => e.State == state), fromEvents.CountOf(state));
            Assert.Equal(fromEvents.CountOf(state), restored.CountOf(state));
        }
    }

    [Fact(DisplayName = "a frontend can withdraw a waiting poll, which is answered empty at once")]
    public void CancelPollAnswersEmpty()
    {
        var h = new EngineHarness();
        var frontend = new object();
        h.Send(frontend, new Poll("q", 1, 60_000, PollId: 77));
        Assert.Equal(1, h.Engine.WaitingPollers);
        h.Send(new object(), new CancelPoll("q", 77));
        Assert.Empty(h.LastReplyTo<Polled>(frontend).Tasks);
        Assert.Equal(0, h.Engine.WaitingPollers);
        h.Enqueue("later");
        Assert.Single(h.RepliesTo(frontend)); // the withdrawn poll gets nothing more
    }

    [Fact(DisplayName = "released tasks are ready again at once, without using up an attempt")]
    public void ReleaseGivesTasksBack()
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        var first = Assert.Single(h.Poll());
        Assert.Equal(1, Assert.IsType<Released>(h.Call(new ReleaseTasks([first.LeaseToken]))).Count);
        h.Advance(1);
        var again = Assert.Single(h.Poll());
        Assert.Equal((first.TaskId, 1), (again.TaskId, again.Attempt));
        Assert.Equal(ErrorCode.LeaseExpired, Assert.IsType<Rejected>(h.Call(new Complete(first.LeaseToken))).Code);
        Assert.Equal(0, Assert.IsType<Released>(h.Call(new ReleaseTasks([first.LeaseToken, "junk"]))).Count);
    }

    [Fact(DisplayName = "tasks that stay unsettled long are written anew, so they do not pin the journal, and keep their payloads")]
    public void LongUnsettledTasksAreRelocated()
    {
        var h = new EngineHarness(new PartitionOptions { SnapshotEvery = 10, ReadyWindow = 8, RetryJitter = 0 });
        h.Enqueue("far", delayMs: 10_000_000);
        var deadId = h.Enqueue("dead", maxAttempts: 1).TaskId;
        h.Call(new Fail(Assert.Single(h.Poll()).LeaseToken, "no", Retryable: false));
        for (var round = 0; round < 100; round++)
        {
            h.Enqueue($"r{round}");
            foreach (var t in h.Poll(max: 5)) h.Call(new Complete(t.LeaseToken));
        }
        Assert.True(h.Journal.Count <= 40, $"journal holds {h.Journal.Count} events");
        Assert.True(h.Journal.Min(e => e.SeqNr) > 100, "the events of the first tasks are gone");

        h.Restart();
        Assert.Equal(1, Assert.IsType<DeadLettersRequeued>(h.Call(new RequeueDeadLetters("q", [deadId]))).Count);
        h.Advance(1);
        Assert.Equal("dead", Text(Assert.Single(h.Poll())));
        h.Advance(10_000_000);
        Assert.Equal("far", Text(Assert.Single(h.Poll())));
    }
}
