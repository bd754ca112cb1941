using Conduit.Protocol;
using Conduit.Server.Matching;
using Conduit.Server.Persistence;
using CsCheck;
using Xunit;
using static Conduit.Server.Tests.Matching.EngineHarness;

namespace Conduit.Server.Tests.Matching;

/// <summary>A partition's share of its queue's limits (<see cref="DispatchLimits"/>), and the engine under them.</summary>
public sealed class DispatchLimitsTests
{
    [Fact(DisplayName = "without limits everything may go")]
    public void NoLimits()
    {
        var limits = new DispatchLimits();
        limits.Set(QueueLimits.None, 0, 4, 0);
        Assert.Equal(int.MaxValue, limits.Allowance(0, running: 1_000));
        Assert.False(limits.RateLimited);
    }

    [Fact(DisplayName = "a rate gives each of N partitions 1/N of it and of the burst (at least a second's worth); the bucket refills with time and never past the burst")]
    public void RateShare()
    {
        var limits = new DispatchLimits();
        limits.Set(new QueueLimits(RatePerSecond: 100, Burst: 80), index: 1, partitions: 4, nowMs: 0);
        Assert.Equal(25, limits.RatePerSecond, 6);
        Assert.Equal(25, limits.Burst, 6); // 80/4 = 20 is less than a second's worth of 25/s
        limits.Set(new QueueLimits(RatePerSecond: 100, Burst: 400), index: 1, partitions: 4, nowMs: 0);
        Assert.Equal(100, limits.Burst, 6);
        limits.Set(QueueLimits.None, 1, 4, 0);
        limits.Set(new QueueLimits(RatePerSecond: 100), index: 1, partitions: 4, nowMs: 0);
        Assert.Equal(25, limits.Allowance(0, 0)); // a new rate starts with a full bucket
        limits.Took(25);
        Assert.Equal(0, limits.Allowance(0, 0));
        Assert.Equal(0, limits.Allowance(39, 0)); // 0.975 of a token
        Assert.Equal(1, limits.Allowance(40, 0));
        Assert.Equal(25, limits.Allowance(10_000, 0)); // never past the burst
    }

    [Fact(DisplayName = "tasks given back undelivered give their tokens back, never past the burst; a changed rate keeps what the old one earned")]
    public void RefundAndChange()
    {
        var limits = new DispatchLimits();
        limits.Set(new QueueLimits(RatePerSecond: 10), 0, 1, 0);
        limits.Took(10);
        limits.Refund(3);
        Assert.Equal(3, limits.Allowance(0, 0));
        limits.Refund(100);
        Assert.Equal(10, limits.Allowance(0, 0));
        limits.Took(10);
        limits.Set(new QueueLimits(RatePerSecond: 20), 0, 1, 500); // 0.5 s at 10/s earned 5 before the change
        Assert.Equal(5, limits.Allowance(500, 0));
        Assert.Equal(15, limits.Allowance(1_000, 0));
    }

    [Fact(DisplayName = "limits in a journal entry and a snapshot read back as written")]
    public void LimitsRoundTrip()
    {
        var entry = new BatchEntry { Kind = EntryKind.LimitsSet, Limits = LimitsRecord.Of(new QueueLimits(2.5, 7, 3)) };
        var batch = MemoryPack.MemoryPackSerializer.Deserialize<PartitionBatch>(MemoryPack.MemoryPackSerializer.Serialize(new PartitionBatch { Entries = [entry] }))!;
        Assert.Equal(new QueueLimits(2.5, 7, 3), batch.Entries[0].Limits!.ToLimits());
        var snapshot = MemoryPack.MemoryPackSerializer.Deserialize<PartitionSnapshot>(
            MemoryPack.MemoryPackSerializer.Serialize(new PartitionSnapshot { Limits = entry.Limits }))!;
        Assert.Equal(new QueueLimits(2.5, 7, 3), snapshot.Limits!.ToLimits());
        Assert.Null(LimitsRecord.Of(QueueLimits.None));
    }

    [Fact(DisplayName = "a slow rate still lets one task go at once; a clock that steps back refills nothing")]
    public void SlowRateAndClock()
    {
        var limits = new DispatchLimits();
        limits.Set(new QueueLimits(RatePerSecond: 0.5), 0, 2, 1_000);
        Assert.Equal(1, limits.Burst, 6);
        Assert.Equal(1, limits.Allowance(1_000, 0));
        limits.Took(1);
        Assert.Equal(0, limits.Allowance(500, 0));
        Assert.Equal(0, limits.Allowance(3_000, 0)); // 0.25/s: half a token after 2 s
        Assert.Equal(1, limits.Allowance(5_000, 0));
    }

    [Fact(DisplayName = "the running limit is split as evenly as whole tasks allow, and each share is at least one")]
    public void RunningShares()
    {
        var shares = Enumerable.Range(0, 4).Select(i =>
        {
            var l = new DispatchLimits();
            l.Set(new QueueLimits(MaxRunning: 10), i, 4, 0);
            return l.MaxRunning;
        }).ToArray();
        Assert.Equal([3, 3, 2, 2], shares);
        var limits = new DispatchLimits();
        limits.Set(new QueueLimits(MaxRunning: 2), index: 3, partitions: 4, nowMs: 0); // fewer than partitions (the topology changed): never 0
        Assert.Equal(1, limits.MaxRunning);
        limits.Set(new QueueLimits(MaxRunning: 3), 0, 1, 0);
        Assert.Equal(1, limits.Allowance(0, running: 2));
        Assert.Equal(0, limits.Allowance(0, running: 5));
    }

    [Fact(DisplayName = "the shares of any running limit add up to it whenever it is at least the partition count")]
    public void SharesAddUp() =>
        Gen.Select(Gen.Int[1, 64], Gen.Int[1, 100_000]).Where((n, max) => max >= n).Sample((n, max) =>
        {
            var total = 0;
            for (var i = 0; i < n; i++)
            {
                var l = new DispatchLimits();
                l.Set(new QueueLimits(MaxRunning: max), i, n, 0);
                total += l.MaxRunning;
            }
            return total == max;
        });

    [Fact(DisplayName = "over any interleaving of polls and time, a partition hands out no more than its burst plus its rate times the time")]
    public void RateHolds() =>
        Gen.Select(Gen.Double[0.5, 500], Gen.Int[0, 50], Gen.Int[1, 20].Array[1, 60]).Sample((rate, burst, steps) =>
        {
            var h = new EngineHarness();
            for (var i = 0; i < 200; i++) h.Enqueue($"t{i}");
            h.Call(new SetQueueLimits("q", new QueueLimits(rate, burst)));
            var start = h.Now;
            var handed = 0;
            foreach (var step in steps)
            {
                h.Advance(step * 10);
                handed += h.Poll(max: 50).Length;
            }
            var allowedBurst = Math.Max(burst, Math.Max(1, rate));
            return handed <= Math.Floor(allowedBurst + rate * (h.Now - start) / 1000.0) + 1e-9;
        });

    [Fact(DisplayName = "limits are durable: set, they answer with the queue's limits, show in the stats, and survive a restart and a snapshot")]
    public void Durable()
    {
        var h = new EngineHarness();
        var set = Assert.IsType<QueueLimitsChanged>(h.Call(new SetQueueLimits("q", new QueueLimits(MaxRunning: 2))));
        Assert.Equal(2, set.Limits.MaxRunning);
        for (var i = 0; i < 5; i++) h.Enqueue($"t{i}");
        Assert.Equal(2, h.Poll(max: 5).Length);
        Assert.Empty(h.Poll(max: 5)); // two running: the limit
        Assert.Equal(new QueueLimits(MaxRunning: 2), ((QueueStats)h.Call(new GetQueueStats("q"))).Limits);
        var snapshot = DurablePartitionState.FromSnapshot(h.Engine.Durable.ToSnapshot(), h.Engine.Durable.LastEventSeqNr);
        Assert.Equal(2, snapshot.Limits?.MaxRunning);
        h.Restart();
        Assert.Equal(2, h.Engine.Limits.MaxRunning);
        Assert.Empty(h.Poll(max: 5)); // the two recovered leases still count as running
        h.Call(new SetQueueLimits("q", QueueLimits.None));
        Assert.Equal(3, h.Poll(max: 5).Length);
        Assert.Null(((QueueStats)h.Call(new GetQueueStats("q"))).Limits);
    }

    [Fact(DisplayName = "a completed task frees its slot under a running limit: the next one goes to a waiting poller")]
    public void CompletionFreesASlot()
    {
        var h = new EngineHarness();
        h.Call(new SetQueueLimits("q", new QueueLimits(MaxRunning: 1)));
        h.Enqueue("a");
        h.Enqueue("b");
        var first = Assert.Single(h.Poll(max: 2));
        var worker = new object();
        h.Send(worker, new Poll("q", 1, 10_000));
        Assert.Empty(h.RepliesTo(worker));
        Assert.IsType<Completed>(h.Call(new Complete(first.LeaseToken)));
        Assert.Equal("b", Text(Assert.Single(h.LastReplyTo<Polled>(worker).Tasks)));
    }

    [Fact(DisplayName = "bad limits are refused with InvalidArgument and change nothing")]
    public void BadLimits()
    {
        var h = new EngineHarness();
        foreach (var bad in new[]
                 {
                     new QueueLimits(double.NaN), new QueueLimits(-1), new QueueLimits(double.PositiveInfinity), new QueueLimits(QueueLimits.MaxRate + 1),
                     new QueueLimits(1, Burst: -1), new QueueLimits(0, Burst: 5), new QueueLimits(MaxRunning: -2),
                     new QueueLimits(MaxRunning: QueueLimits.MaxCount + 1),
                 })
            Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<Rejected>(h.Call(new SetQueueLimits("q", bad))).Code);
        Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<Rejected>(h.Call(new SetQueueLimits("q", null!))).Code);
        Assert.Equal(ErrorCode.InvalidArgument, TaskSpecRules.CheckLimits(new QueueLimits(MaxRunning: 3), partitions: 4)!.Code);
        Assert.DoesNotContain(h.Journal, e => e.Batch.Entries.Any(x => x.Kind == EntryKind.LimitsSet));
        Assert.Null(((QueueStats)h.Call(new GetQueueStats("q"))).Limits);
    }

    [Fact(DisplayName = "a worker's retry delay sets when the retry is due, instead of the backoff; a delay out of range is refused")]
    public void FailWithRetryDelay()
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        var task = Assert.Single(h.Poll());
        Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<Rejected>(h.Call(new Fail(task.LeaseToken, "x", RetryDelayMs: -1))).Code);
        Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<Rejected>(h.Call(new Fail(task.LeaseToken, "x", RetryDelayMs: Fail.MaxRetryDelayMs + 1))).Code);
        var failed = Assert.IsType<Failed>(h.Call(new Fail(task.LeaseToken, "rate limited upstream", RetryDelayMs: 60_000)));
        Assert.Equal(h.Now + 60_000, failed.RetryAtUnixMs);
        h.Advance(59_000);
        Assert.Empty(h.Poll());
        h.Advance(1_000);
        Assert.Equal(2, Assert.Single(h.Poll()).Attempt);
    }
}
