using Conduit.Protocol;
using Conduit.Server.Matching;
using Conduit.Server.Persistence;
using CsCheck;
using Xunit;
using static Conduit.Server.Tests.Matching.EngineHarness;

namespace Conduit.Server.Tests.Matching;

/// <summary>
/// The per-key running limit (<see cref="QueueLimits.MaxRunningPerKey"/>): the lease table's counts, the window's
/// parking, and the engine under them, including across restarts and over random interleavings.
/// </summary>
public sealed class ConcurrencyKeyTests
{
    private static Enqueued Enqueue(EngineHarness h, string payload, string? concurrencyKey, int priority = TaskSpec.DefaultPriority, long delayMs = 0) =>
        Assert.IsType<Enqueued>(h.Call(new Enqueue("q", Spec(payload, priority, delayMs) with { ConcurrencyKey = concurrencyKey })));

    private static void PerKey(EngineHarness h, int n) =>
        Assert.IsType<QueueLimitsChanged>(h.Call(new SetQueueLimits("q", new QueueLimits(MaxRunningPerKey: n))));

    private static ReadyTask Ready(long counter, string? key, int priority = 5) =>
        new(new TaskRecord { Seq = TaskSeq.Of(counter, priority).Value, Payload = [1], ConcurrencyKey = key }, 0, 10, 1);

    [Fact(DisplayName = "a task's partition is fixed by its concurrency key, before its idempotency key; without either it is not fixed")]
    public void Routing()
    {
        var byKey = Conduit.Server.Frontend.KeyRouting.PartitionOf(Spec("x") with { ConcurrencyKey = "customer-1" }, 16);
        Assert.NotNull(byKey);
        for (var i = 0; i < 20; i++)
            Assert.Equal(byKey, Conduit.Server.Frontend.KeyRouting.PartitionOf(Spec("x", key: $"idem-{i}") with { ConcurrencyKey = "customer-1" }, 16));
        Assert.True(Enumerable.Range(0, 20).Select(i => Conduit.Server.Frontend.KeyRouting.PartitionOf(Spec("x", key: $"idem-{i}"), 16)).Distinct().Count() > 1);
        Assert.Null(Conduit.Server.Frontend.KeyRouting.PartitionOf(Spec("x"), 16));
        Assert.Equal(0, Conduit.Server.Frontend.KeyRouting.PartitionOf(Spec("x") with { ConcurrencyKey = "k" }, 1));
    }

    [Fact(DisplayName = "the lease table counts leases per key and reports each key that lost one")]
    public void LeaseTableCounts()
    {
        var leases = new LeaseTable();
        Lease L(long seq, string? key, long expires = 100) => new()
        {
            Seq = seq, Attempt = 1, MaxAttempts = 3, EnqueuedAtMs = 0, LeaseMs = 10, Nonce = seq, Epoch = 1, ExpiresAtMs = expires, ConcurrencyKey = key,
        };
        leases.Add(L(1, "a"));
        leases.Add(L(2, "a", expires: 50));
        leases.Add(L(3, "b"));
        leases.Add(L(4, null));
        Assert.Null(leases.TakeEndedKeys());
        leases.Add(L(1, "a")); // the same delivery again: still one
        Assert.Equal(2, leases.RunningWithKey("a"));
        Assert.Equal(1, leases.RunningWithKey("b"));
        leases.TakeEndedKeys();
        Assert.True(leases.Remove(3));
        Assert.False(leases.Remove(3));
        Assert.Single(leases.TakeExpired(60));
        Assert.Equal(1, leases.RunningWithKey("a"));
        Assert.Equal(0, leases.RunningWithKey("b"));
        Assert.Equal(["a", "b"], leases.TakeEndedKeys()!.Order());
        Assert.Null(leases.TakeEndedKeys());
    }

    [Fact(DisplayName = "the window parks a task out of line by key and puts it back in order; removal and purge reach parked tasks")]
    public void WindowParks()
    {
        var window = new ReadyWindow();
        ReadyTask a1 = Ready(1, "a"), a2 = Ready(2, "a"), b3 = Ready(3, "b"), a4 = Ready(4, "a", priority: 9), n5 = Ready(5, null);
        foreach (var t in new[] { a1, a2, b3, a4, n5 }) window.Add(t);
        window.Park(a4);
        window.Park(a1);
        window.Park(n5); // no key: stays in line
        Assert.Equal((3, 2, 5), (window.Count, window.ParkedCount, window.Total));
        Assert.Same(a2, window.Best);
        Assert.True(window.Contains(a1.Seq));
        window.Unpark("a", 1);
        Assert.Same(a4, window.Best); // the best of the key first (priority 9)
        Assert.Equal(1, window.ParkedCount);
        Assert.True(window.Remove(a1.Seq)); // parked
        Assert.Equal((0, 4), (window.ParkedCount, window.Total));
        window.Park(b3);
        window.PurgeBelow(4);
        Assert.Equal((0, 2), (window.ParkedCount, window.Total));
        window.Park(a4);
        window.UnparkAll();
        Assert.Equal((2, 0), (window.Count, window.ParkedCount));
    }

    [Fact(DisplayName = "at most N of a key run at once; other keys and unkeyed tasks go past the blocked ones; an ended lease lets the next of its key go to a waiting poller")]
    public void LimitHolds()
    {
        var h = new EngineHarness();
        PerKey(h, 1);
        Enqueue(h, "a1", "a");
        Enqueue(h, "a2", "a");
        Enqueue(h, "b1", "b");
        Enqueue(h, "x", null);
        var first = h.Poll(max: 10);
        Assert.Equal(["a1", "b1", "x"], first.Select(Text).ToArray());
        Assert.Empty(h.Poll(max: 10));
        Assert.Equal(1, ((QueueStats)h.Call(new GetQueueStats("q"))).Ready); // a2 still counts as ready in the stats
        Assert.Equal(0, h.Engine.Load().Ready); // but not for routing polls
        var worker = new object();
        h.Send(worker, new Poll("q", 10, 10_000, LeaseMs: 120_000));
        Assert.Empty(h.RepliesTo(worker));
        h.Call(new Complete(first.Single(t => Text(t) == "b1").LeaseToken)); // another key's end changes nothing for a
        Assert.Empty(h.RepliesTo(worker));
        h.Call(new Fail(first[0].LeaseToken, "boom", RetryDelayMs: 60_000)); // a1 fails: a2 may go
        Assert.Equal("a2", Text(Assert.Single(h.LastReplyTo<Polled>(worker).Tasks)));
        h.Advance(60_000);
        Assert.Empty(h.Poll(max: 10)); // a1's retry is due, but a2 runs
        Assert.Equal(0, h.Engine.Load().Ready); // a1 waits parked: not ready for a poll
    }

    [Fact(DisplayName = "a limit of N lets N of a key run; raising the limit or lifting it releases parked tasks at once")]
    public void LimitChanges()
    {
        var h = new EngineHarness();
        PerKey(h, 2);
        for (var i = 0; i < 6; i++) Enqueue(h, $"a{i}", "a");
        Assert.Equal(["a0", "a1"], h.Poll(max: 10).Select(Text).ToArray());
        PerKey(h, 3);
        Assert.Equal(["a2"], h.Poll(max: 10).Select(Text).ToArray());
        h.Call(new SetQueueLimits("q", QueueLimits.None));
        Assert.Equal(["a3", "a4", "a5"], h.Poll(max: 10).Select(Text).ToArray());
    }

    [Fact(DisplayName = "a restarted partition counts the deliveries it holds over per key (from the dispatch hint), and after a snapshot too")]
    public void RestartKeepsCounts()
    {
        var h = new EngineHarness();
        PerKey(h, 1);
        Enqueue(h, "a1", "a");
        Enqueue(h, "a2", "a", delayMs: 1_000); // scheduled: its key is in the task's entry
        var running = Assert.Single(h.Poll(max: 10));
        h.Restart();
        h.Advance(1_000);
        Assert.Empty(h.Poll(max: 10)); // a1 may still be running: a2 waits
        var snapshot = DurablePartitionState.FromSnapshot(h.Engine.Durable.ToSnapshot(), h.Engine.Durable.LastEventSeqNr);
        Assert.Equal("a", snapshot.Exceptions[running.Seq()].ConcurrencyKey);
        Assert.IsType<Completed>(h.Call(new Complete(running.LeaseToken))); // the worker finishes it against the new owner
        Assert.Equal("a2", Text(Assert.Single(h.Poll(max: 10))));
    }

    [Fact(DisplayName = "cancelling the task an ended lease put back in line lets the next one of its key go; so does a lease that ends without a write")]
    public void NoStrandAfterCancel()
    {
        var h = new EngineHarness();
        PerKey(h, 1);
        Enqueue(h, "a1", "a");
        var a2 = Enqueue(h, "a2", "a");
        Enqueue(h, "a3", "a");
        Enqueue(h, "a4", "a");
        var a1 = Assert.Single(h.Poll(max: 10)); // parks a2, a3, a4
        Assert.IsType<Completed>(h.Call(new Complete(a1.LeaseToken))); // no poller waits: a2 goes back in line
        Assert.IsType<Cancelled>(h.Call(new CancelTask(a2.TaskId)));
        var a3 = Assert.Single(h.Poll(max: 10));
        Assert.Equal("a3", Text(a3));
        // a3's task is cancelled while it runs; its worker's answer ends the lease without a write: a waiting poller gets a4.
        Assert.IsType<Cancelled>(h.Call(new CancelTask(a3.TaskId)));
        var worker = new object();
        h.Send(worker, new Poll("q", 10, 10_000));
        Assert.Empty(h.RepliesTo(worker));
        Assert.Equal(ErrorCode.UnknownLease, Assert.IsType<Rejected>(h.Call(new Complete(a3.LeaseToken))).Code);
        Assert.Equal("a4", Text(Assert.Single(h.LastReplyTo<Polled>(worker).Tasks)));
    }

    [Fact(DisplayName = "a full window of tasks without keys still reports its whole backlog to frontends (only the parking bound caps it)")]
    public void LoadOfAFullWindow()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 4 });
        for (var i = 0; i < 20; i++) Enqueue(h, $"t{i}", null);
        Assert.Equal(20, h.Engine.Load().Ready);
    }

    [Fact(DisplayName = "a parked task can be cancelled and read; keys are validated")]
    public void CancelAndValidate()
    {
        var h = new EngineHarness();
        PerKey(h, 1);
        Enqueue(h, "a1", "a");
        var a2 = Enqueue(h, "a2", "a");
        Assert.Single(h.Poll(max: 10));
        Assert.Empty(h.Poll(max: 10)); // parks a2
        Assert.Equal(TaskStatus.Ready, Assert.IsType<TaskInfo>(h.Call(new GetTask(a2.TaskId))).Status);
        Assert.IsType<Cancelled>(h.Call(new CancelTask(a2.TaskId)));
        Assert.Equal(0, h.Engine.TasksInMemory);
        foreach (var bad in new[] { "", new string('k', TaskSpecRules.MaxConcurrencyKeyBytes + 1) })
            Assert.Equal(ErrorCode.InvalidArgument,
                Assert.IsType<Rejected>(h.Call(new Enqueue("q", Spec("x") with { ConcurrencyKey = bad }))).Code);
        Assert.Equal(ErrorCode.InvalidArgument,
            Assert.IsType<Rejected>(h.Call(new SetQueueLimits("q", new QueueLimits(MaxRunningPerKey: -1)))).Code);
        Assert.Equal(ErrorCode.InvalidArgument,
            Assert.IsType<Rejected>(h.Call(new SetQueueLimits("q", new QueueLimits(MaxRunningPerKey: QueueLimits.MaxCount + 1)))).Code);
    }

    [Fact(DisplayName = "tasks parked behind one busy key do not hold back other keys' backlog, up to the parking bound; memory stays bounded past it")]
    public void ParkingBound()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 4 });
        PerKey(h, 1);
        var parkedBound = PartitionEngine.ParkedWindows * 4;
        for (var i = 0; i < parkedBound; i++) Enqueue(h, $"a{i}", "a");
        Enqueue(h, "b", "b");
        Assert.Equal("a0", Text(Assert.Single(h.Poll(max: 10))));
        Assert.Equal("b", Text(Assert.Single(h.Poll(max: 10)))); // b was behind 15 a's, now parked
        for (var i = 0; i < 200; i++) Enqueue(h, $"c{i}", "c");
        Assert.Equal("c0", Text(Assert.Single(h.Poll(max: 10))));
        Assert.Empty(h.Poll(max: 10));
        Assert.Empty(h.Poll(max: 10));
        // 15 a's and 199 c's wait: memory holds at most the parking bound, a window and a page of slack, and the
        // partition tells frontends it has nothing ready.
        Assert.InRange(h.Engine.TasksInMemory, parkedBound, parkedBound + 4 + 64);
        Assert.Equal(0, h.Engine.Load().Ready);
        Enqueue(h, "d", "d"); // past the bound, a new key waits its turn in the journal (docs/limits.md)
        Assert.Empty(h.Poll(max: 10));
    }

    /// <summary>
    /// Random interleavings of enqueues (few keys, some unkeyed, some delayed), polls, completes, fails, lease
    /// expiries, cancellations and restarts. Invariant: no key ever has more tasks handed out and unsettled than the
    /// limit, counted from the workers' side (a task leaves when its worker completes or fails it, or its lease runs
    /// out). Liveness: at the end, every task completes.
    /// </summary>
    [Fact(DisplayName = "over random interleavings no key ever has more than its limit running (workers' view), and every task not cancelled completes in the end")]
    public void NeverAboveTheLimit() =>
        Gen.Select(Gen.Int[1, 3], Gen.Int[0, 8].Array[20, 120], Gen.Int[0, int.MaxValue]).Sample((limit, ops, seed) =>
        {
            var random = new Random(seed);
            var h = new EngineHarness(new PartitionOptions { ReadyWindow = 3 });
            PerKey(h, limit);
            var keys = new[] { "a", "b", "c", null };
            var held = new List<LeasedTask>(); // the workers' records: handed out, not yet settled or expired
            var keyOf = new Dictionary<string, string?>();
            var done = new HashSet<string>();
            var cancelled = new HashSet<string>();
            var n = 0;
            bool Check()
            {
                foreach (var group in held.GroupBy(t => keyOf[t.TaskId]).Where(g => g.Key is not null))
                    if (group.Count() > limit) return false;
                return true;
            }
            void Take(IEnumerable<LeasedTask> tasks)
            {
                foreach (var t in tasks) held.Add(t);
            }
            foreach (var op in ops)
            {
                switch (op)
                {
                    case 0 or 1 or 2:
                        var key = keys[random.Next(keys.Length)];
                        var e = Enqueue(h, $"t{n++}", key, priority: random.Next(4, 7), delayMs: random.Next(3) == 0 ? 500 : 0);
                        keyOf[e.TaskId] = key;
                        break;
                    case 3 or 4:
                        Take(h.Poll(max: random.Next(1, 5), leaseMs: 10_000));
                        break;
                    case 5 when held.Count > 0:
                        var c = held[random.Next(held.Count)];
                        held.Remove(c);
                        if (h.Call(new Complete(c.LeaseToken)) is Completed) done.Add(c.TaskId);
                        break;
                    case 6 when held.Count > 0:
                        var f = held[random.Next(held.Count)];
                        held.Remove(f);
                        h.Call(new Fail(f.LeaseToken, "x", RetryDelayMs: 200));
                        break;
                    case 7:
                        h.Advance(random.Next(2) == 0 ? 300 : 10_001);
                        held.RemoveAll(t => t.LeaseExpiresAtUnixMs <= h.Now); // expired: the worker lost it
                        break;
                    case 8 when random.Next(2) == 0:
                        h.Restart();
                        // A task cancelled while it ran is settled in the journal: the new incarnation holds no lease for
                        // it, so it no longer counts against its key even if its worker has not stopped yet (docs/limits.md).
                        held.RemoveAll(t => cancelled.Contains(t.TaskId));
                        break;
                    case 8 when keyOf.Count > 0:
                        // Cancel any task: parked, in line, running (its worker then learns it at completion) or settled.
                        var victim = keyOf.Keys.ElementAt(random.Next(keyOf.Count));
                        if (h.Call(new CancelTask(victim)) is Cancelled) cancelled.Add(victim);
                        break;
                }
                if (!Check()) return false;
            }
            // Drain: complete what is held, poll, advance time for retries and delays, until everything completed.
            for (var round = 0; round < 500 && !keyOf.Keys.All(id => done.Contains(id) || cancelled.Contains(id)); round++)
            {
                foreach (var t in held.ToList())
                {
                    held.Remove(t);
                    if (h.Call(new Complete(t.LeaseToken)) is Completed) done.Add(t.TaskId);
                }
                Take(h.Poll(max: 5, leaseMs: 10_000));
                if (!Check()) return false;
                if (held.Count == 0) h.Advance(300);
            }
            return keyOf.Keys.All(id => done.Contains(id) || cancelled.Contains(id));
        }, iter: 300);
}

internal static class LeasedTaskSeq
{
    public static long Seq(this LeasedTask task) => TaskId.TryParse(task.TaskId, out var id) ? id.Seq : throw new FormatException(task.TaskId);
}
