using Akka.Actor;
using Akka.TestKit.Xunit2;
using Conduit.Protocol;
using Conduit.Server.Frontend;
using Conduit.Server.Matching;
using Conduit.Server.Scheduling;
using Xunit;

namespace Conduit.Server.Tests.Scheduling;

/// <summary>
/// The schedule entity itself (TestKit, the in-memory journal, a probe for the partitions' region, a clock of the
/// test's): what it does when its incarnation dies between enqueuing a run and recording it.
/// </summary>
public sealed class ScheduleEntityTests : TestKit
{
    private const long Created = 1_700_000_000_000;
    private long _now = Created;

    private IActorRef Entity(IActorRef partitions) =>
        Sys.ActorOf(ScheduleEntity.Props("default", "ticks", partitions, new QueueTopology(4), new QueuePolicies(new PartitionOptions()), () => Volatile.Read(ref _now)));

    /// <summary>An entity with schedule "ticks" saved at the test clock's time.</summary>
    private IActorRef Saved(IActorRef partitions, ScheduleSpec spec)
    {
        var entity = Entity(partitions);
        entity.Tell(new PutSchedule("ticks", spec));
        ExpectMsg<ScheduleInfo>();
        return entity;
    }

    /// <summary>Stops an incarnation and waits until it is gone (what it persisted stays in the journal).</summary>
    private void Stop(IActorRef entity)
    {
        Watch(entity);
        Sys.Stop(entity);
        ExpectTerminated(entity);
    }

    private static long DueOf(PartitionEnvelope envelope) =>
        long.Parse(((Enqueue)envelope.Request).Task.Headers![ScheduleSpec.DueHeader], System.Globalization.CultureInfo.InvariantCulture);

    [Fact(DisplayName = "a schedule that recovers after missing a due time by more than missed-after, with MissedRuns Skip, records the skip (a write right after recovery) and waits for the next due time")]
    public void SkipAfterDowntime()
    {
        var partitions = CreateTestProbe();
        Stop(Saved(partitions, new ScheduleSpec("q", new TaskSpec([1]), IntervalMs: 5_000, MissedRuns: MissedRunPolicy.Skip, MissedAfterMs: 1_000)));

        Volatile.Write(ref _now, Created + 7_000); // down over the first due time (+5 s), back 2 s after it
        var recovered = Entity(partitions);
        AwaitAssert(() =>
        {
            recovered.Tell(new GetSchedule("ticks"));
            var info = ExpectMsg<ScheduleInfo>();
            Assert.Equal((0L, 1L), (info.Runs, info.Skipped));
            Assert.Equal(Created + 10_000, info.NextDueUnixMs[0]);
        }, TimeSpan.FromSeconds(5));
        partitions.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // nothing enqueued for the skipped due time
    }

    [Theory(DisplayName = "a run the queue refused before writing (Overloaded) is decided again at its retry, by lateness and policy; one that may have landed (Unavailable) is finished with its due time however late")]
    [InlineData(ErrorCode.Overloaded)]
    [InlineData(ErrorCode.Unavailable)]
    public void RefusedRunRetried(ErrorCode refusal)
    {
        var partitions = CreateTestProbe();
        Stop(Saved(partitions, new ScheduleSpec("q", new TaskSpec([1]), IntervalMs: 5_000, MissedRuns: MissedRunPolicy.Skip, MissedAfterMs: 1_000)));
        Volatile.Write(ref _now, Created + 5_000); // back exactly at the first due time: it runs at once
        var entity = Entity(partitions);
        var attempt = partitions.ExpectMsg<PartitionEnvelope>(TimeSpan.FromSeconds(5));
        Assert.Equal(Created + 5_000, DueOf(attempt));
        Volatile.Write(ref _now, Created + 7_000); // by the retry (1 s from now) the due time is 2 s late: past missed-after
        partitions.Reply(new Rejected(refusal, "busy"));
        if (refusal == ErrorCode.Overloaded)
        {
            // Decided again at the retry (about a second from the refusal): skipped (Skip policy), nothing enqueued.
            AwaitAssert(() =>
            {
                entity.Tell(new GetSchedule("ticks"));
                var info = ExpectMsg<ScheduleInfo>();
                Assert.Equal((0L, 1L, Created + 10_000), (info.Runs, info.Skipped, info.NextDueUnixMs[0]));
            }, TimeSpan.FromSeconds(10));
            partitions.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        }
        else
        {
            var again = partitions.ExpectMsg<PartitionEnvelope>(TimeSpan.FromSeconds(5));
            Assert.Equal(Created + 5_000, DueOf(again)); // the same run, late as it is
            Assert.Equal(((Enqueue)attempt.Request).Task.IdempotencyKey, ((Enqueue)again.Request).Task.IdempotencyKey);
            partitions.Reply(new Enqueued("default/q#2:9", Duplicate: true));
            AwaitAssert(() =>
            {
                entity.Tell(new GetSchedule("ticks"));
                var info = ExpectMsg<ScheduleInfo>();
                Assert.Equal((1L, 0L), (info.Runs, info.Skipped));
            }, TimeSpan.FromSeconds(5));
        }
    }

    [Fact(DisplayName = "a run started by an incarnation that died before recording it is finished first by the next one, with the same idempotency key, and counts as a run; then the missed due times by the policy")]
    public void StartedRunFinishedAfterCrash()
    {
        var partitions = CreateTestProbe();
        var first = Saved(partitions, new ScheduleSpec("q", new TaskSpec([1]), IntervalMs: 1_000, MissedRuns: MissedRunPolicy.RunOnce, MissedAfterMs: 1_000));
        Volatile.Write(ref _now, Created + 1_000); // the first due time; the entity's timer fires about a second from now
        var started = partitions.ExpectMsg<PartitionEnvelope>(TimeSpan.FromSeconds(5));
        Assert.Equal(Created + 1_000, DueOf(started));
        // The incarnation dies before the enqueue's answer and so before ScheduleRan: what the journal has is the start.
        Stop(first);

        Volatile.Write(ref _now, Created + 3_500); // it comes back 2.5 s later (a failover)
        var recovered = Entity(partitions);
        var resumed = partitions.ExpectMsg<PartitionEnvelope>(TimeSpan.FromSeconds(5));
        Assert.Equal(Created + 1_000, DueOf(resumed)); // the started run, not a new decision
        Assert.Equal(((Enqueue)started.Request).Task.IdempotencyKey, ((Enqueue)resumed.Request).Task.IdempotencyKey);
        Assert.Equal(started.PartitionId, resumed.PartitionId);
        partitions.Reply(new Enqueued("default/q#1:17", Duplicate: true)); // the first incarnation's enqueue had landed

        var next = partitions.ExpectMsg<PartitionEnvelope>(TimeSpan.FromSeconds(5));
        Assert.Equal(Created + 3_000, DueOf(next)); // RunOnce: the latest missed due time; the one before it is skipped
        partitions.Reply(new Enqueued("default/q#1:33", Duplicate: false));
        AwaitAssert(() =>
        {
            recovered.Tell(new GetSchedule("ticks"));
            var info = ExpectMsg<ScheduleInfo>();
            Assert.Equal((2L, 1L, "default/q#1:33"), (info.Runs, info.Skipped, info.LastTaskId));
        }, TimeSpan.FromSeconds(5));
        // And that is what the journal says: another incarnation reads the same.
        Stop(recovered);
        Entity(partitions).Tell(new GetSchedule("ticks"));
        var read = ExpectMsg<ScheduleInfo>();
        Assert.Equal((2L, 1L, Created + 3_000), (read.Runs, read.Skipped, read.LastDueUnixMs));
    }
}
