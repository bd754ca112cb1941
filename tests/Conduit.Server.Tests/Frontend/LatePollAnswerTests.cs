using Akka.Actor;
using Akka.TestKit.Xunit2;
using Conduit.Protocol;
using Conduit.Server.Frontend;
using Conduit.Server.Gateway;
using Xunit;

namespace Conduit.Server.Tests.Frontend;

/// <summary>
/// A poll answered after whoever asked for it gave up (a <see cref="PollRouter"/> past its deadline, the gateway's ask on
/// a client's behalf): its tasks are released back to their partitions instead of staying leased to nobody until their
/// lease runs out. The partitions and the frontend are test probes, so the late answer is forced, not waited for.
/// (That a released task is ready again at once without using an attempt is PartitionEngineTests' "released tasks …".)
/// </summary>
public sealed class LatePollAnswerTests : TestKit
{
    private static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(20);

    private static LeasedTask Leased(int partition, int counter) =>
        new($"default/q#{partition}:{counter * 16 + 5}", $"default/q#{partition}:{counter * 16 + 5}:1:1:42:mac{counter}", [1], null, 5, 1, 10, 0, 0);

    [Fact(DisplayName = "a partition that hands out tasks after the PollRouter answered the client empty gets them released back")]
    public void RouterReleasesTasksThatComeAfterItsDeadline()
    {
        var region = CreateTestProbe();
        var client = CreateTestProbe();
        var poll = new Poll("q", 5, WaitMs: 100, PollId: 7);
        var router = Sys.ActorOf(PollRouter.Props(region, client, poll, partitions: 2, busiestFirst: [], probeMs: 50, Margin, Grace));

        var waits = new[] { region.ExpectMsg<PartitionEnvelope>(), region.ExpectMsg<PartitionEnvelope>() };
        Assert.All(waits, w => Assert.IsType<Poll>(w.Request));
        Assert.Empty(client.ExpectMsg<Polled>(TimeSpan.FromSeconds(10)).Tasks); // the deadline passed with no answer
        var cancels = new[] { region.ExpectMsg<PartitionEnvelope>(), region.ExpectMsg<PartitionEnvelope>() };
        Assert.All(cancels, c => Assert.Equal(7, Assert.IsType<CancelPoll>(c.Request).PollId));

        var late = Leased(1, 3);
        router.Tell(new Polled([late]), region.Ref); // partition 1 answers only now
        var release = region.ExpectMsg<PartitionEnvelope>();
        Assert.Equal("default/q#1", release.PartitionId);
        Assert.Equal([late.LeaseToken], Assert.IsType<ReleaseTasks>(release.Request).LeaseTokens);
        client.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // the client got its one answer
    }

    [Fact(DisplayName = "a release that meets a partition answering Unavailable (handing off, recovering) or not at all is asked again until it is answered")]
    public void RouterReleasesAgainUntilAnswered()
    {
        var region = CreateTestProbe();
        var client = CreateTestProbe();
        // A wait far longer than the test: the router's own deadline (which withdraws the waits once more) must not
        // come between the answers on a slow machine. Releases after the deadline: RouterReleasesLateProbeAnswers.
        var poll = new Poll("q", 5, WaitMs: 60_000, PollId: 9);
        var router = Sys.ActorOf(PollRouter.Props(region, client, poll, partitions: 2, busiestFirst: [], probeMs: 50, Margin, Grace));
        region.ExpectMsg<PartitionEnvelope>();
        region.ExpectMsg<PartitionEnvelope>();

        var first = Leased(0, 1);
        var second = Leased(1, 2);
        router.Tell(new Polled([first]), region.Ref);  // partition 0 wins
        Assert.Equal([first.TaskId], client.ExpectMsg<Polled>().Tasks.Select(t => t.TaskId));
        region.ExpectMsg<PartitionEnvelope>();          // the waits are withdrawn
        region.ExpectMsg<PartitionEnvelope>();
        router.Tell(new Polled([second]), region.Ref); // partition 1 hands out too: released back

        var release = region.ExpectMsg<PartitionEnvelope>();
        Assert.Equal([second.LeaseToken], Assert.IsType<ReleaseTasks>(release.Request).LeaseTokens);
        region.Reply(new Rejected(ErrorCode.Unavailable, "handing off"));
        var again = region.ExpectMsg<PartitionEnvelope>(TimeSpan.FromSeconds(5));
        Assert.Equal("default/q#1", again.PartitionId);
        Assert.Equal([second.LeaseToken], Assert.IsType<ReleaseTasks>(again.Request).LeaseTokens);
        region.Reply(new Released(1));
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(600)); // answered: not asked a third time
    }

    [Fact(DisplayName = "a probed partition that answers after the PollRouter's deadline gets its tasks released back")]
    public void RouterReleasesLateProbeAnswers()
    {
        var region = CreateTestProbe();
        var client = CreateTestProbe();
        var poll = new Poll("q", 5, WaitMs: 100);
        var router = Sys.ActorOf(PollRouter.Props(region, client, poll, partitions: 3, busiestFirst: [2], probeMs: 100, Margin, Grace));

        Assert.Equal("default/q#2", region.ExpectMsg<PartitionEnvelope>().PartitionId);
        Assert.Empty(client.ExpectMsg<Polled>(TimeSpan.FromSeconds(10)).Tasks);

        var late = Leased(2, 4);
        router.Tell(new Polled([late]), region.Ref);
        var release = region.ExpectMsg<PartitionEnvelope>();
        Assert.Equal("default/q#2", release.PartitionId);
        Assert.Equal([late.LeaseToken], Assert.IsType<ReleaseTasks>(release.Request).LeaseTokens);
    }

    [Fact(DisplayName = "a poll answered after the gateway gave up on it: the client got Unavailable, and the tasks are released back")]
    public async Task GatewayReleasesTasksOfALateAnswer()
    {
        var frontend = CreateTestProbe();
        var answers = new List<object>();
        var answered = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        PollAsk.Run(frontend, new Poll("q", 2, WaitMs: 100), TimeSpan.FromMilliseconds(300), Grace,
            answer => { lock (answers) answers.Add(answer); answered.TrySetResult(answer); }, () => done.TrySetResult());

        frontend.ExpectMsg<Poll>();
        var asker = frontend.LastSender;
        Assert.Equal(ErrorCode.Unavailable, Assert.IsType<Rejected>(await answered.Task.WaitAsync(TimeSpan.FromSeconds(10))).Code);

        var late = new[] { Leased(0, 1), Leased(1, 2), Leased(0, 3) };
        asker.Tell(new Polled(late), frontend.Ref); // the cluster's answer, after the client was answered
        var releases = new[] { frontend.ExpectMsg<ReleaseTasks>(), frontend.ExpectMsg<ReleaseTasks>() };
        Assert.Equal(late.Select(t => t.LeaseToken).Order(), releases.SelectMany(r => r.LeaseTokens).Order());
        Assert.All(releases, r => Assert.Single(r.LeaseTokens.Select(t => t.Split(':')[0]).Distinct())); // one request per partition
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        lock (answers) Assert.Single(answers);
    }

    [Fact(DisplayName = "a poll answered in time goes to the client as it came, and nothing is released")]
    public async Task GatewayPassesATimelyAnswer()
    {
        var frontend = CreateTestProbe();
        var answered = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        PollAsk.Run(frontend, new Poll("q", 2, WaitMs: 100), TimeSpan.FromSeconds(10), Grace, a => answered.TrySetResult(a), () => { });
        frontend.ExpectMsg<Poll>();
        var polled = new Polled([Leased(0, 1)]);
        frontend.Reply(polled);
        Assert.Same(polled, await answered.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        frontend.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }
}
