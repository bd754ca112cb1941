using Akka.Actor;
using Akka.TestKit.Xunit2;
using Conduit.Protocol;
using Conduit.Server.Scheduling;
using Xunit;

namespace Conduit.Server.Tests.Scheduling;

/// <summary>The node's schedule gate alone (TestKit; a probe stands for the schedules' region).</summary>
public sealed class ScheduleGateTests : TestKit
{
    private IActorRef Gate(IActorRef schedules, IReadOnlyList<Address>? hosts = null) =>
        Sys.ActorOf(ScheduleGate.Props(schedules, limit: 10, fanOut: TimeSpan.FromSeconds(5), () => hosts ?? []));

    [Fact(DisplayName = "a namespace's requests go one at a time: one behind a schedule that does not answer is answered within the 8 s, Unavailable and not carried out, and the first is answered Unavailable when its time is up")]
    public void SlowScheduleHoldsItsNamespaceOnly()
    {
        var schedules = CreateTestProbe();
        var gate = Gate(schedules.Ref);
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        var elsewhere = CreateTestProbe();
        gate.Tell(new PauseSchedule("nightly"), first.Ref);
        gate.Tell(new ResumeSchedule("nightly"), second.Ref);
        gate.Tell(new PauseSchedule("nightly", "billing"), elsewhere.Ref);

        // The other namespace is not held back; the second request of "default" waits behind the first.
        var held = schedules.ExpectMsg<PauseSchedule>();
        Assert.Equal(("nightly", "default"), (held.Name, held.Namespace));
        var billing = schedules.ExpectMsg<PauseSchedule>();
        Assert.Equal(("nightly", "billing"), (billing.Name, billing.Namespace));
        schedules.Reply(new Rejected(ErrorCode.ScheduleNotFound, "none"));
        elsewhere.ExpectMsg<Rejected>(r => r.Code == ErrorCode.ScheduleNotFound);
        schedules.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        var started = DateTime.UtcNow;
        var timedOut = first.ExpectMsg<Rejected>(TimeSpan.FromSeconds(12));
        Assert.Equal(ErrorCode.Unavailable, timedOut.Code);
        Assert.Contains("did not answer in time", timedOut.Message);
        var late = second.ExpectMsg<Rejected>(TimeSpan.FromSeconds(3));
        Assert.Equal(ErrorCode.Unavailable, late.Code);
        Assert.Contains("not carried out", late.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "answers must come within the 8 s the gate promises");
        schedules.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the resume never reached the schedule
    }

    [Fact(DisplayName = "a save cannot be counted without a task-service node: Unavailable, and the schedule is not asked")]
    public void NoTaskServiceNode()
    {
        var schedules = CreateTestProbe();
        var gate = Gate(schedules.Ref, hosts: []);
        gate.Tell(new PutSchedule("nightly", new ScheduleSpec("q", new TaskSpec([1]), IntervalMs: 60_000)), TestActor);
        var refused = ExpectMsg<Rejected>();
        Assert.Equal(ErrorCode.Unavailable, refused.Code);
        Assert.Contains("no task-service node", refused.Message);
        schedules.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        // The namespace moves on: the next request goes to its schedule.
        gate.Tell(new GetSchedule("nightly"), TestActor);
        schedules.ExpectMsg<GetSchedule>();
    }
}
