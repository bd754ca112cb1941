using Akka.Actor;
using Conduit.Protocol;
using Conduit.Server.Matching;
using Xunit;

namespace Conduit.Server.Tests.Matching;

/// <summary>
/// The timers a serving partition holds (<see cref="PartitionUpkeep"/>), over a real engine (<see cref="EngineHarness"/>)
/// and a timer scheduler that records what is active, with the idle clock moved by the test.
/// </summary>
public sealed class PartitionUpkeepTests
{
    private static readonly PartitionOptions Options = new() { PassivateIdleAfterMs = 120_000 };

    private readonly EngineHarness _h = new(Options);
    private readonly RecordingTimers _timers = new();
    private long _clock;

    private PartitionUpkeep Upkeep(bool gossips = false)
    {
        var upkeep = new PartitionUpkeep(Options, gossips, () => _clock);
        upkeep.Start(_h.Engine, _timers);
        return upkeep;
    }

    [Fact(DisplayName = "an idle partition holds its passivation check and no other timer; a queue of one partition never gossips")]
    public void IdleHoldsOneTimer()
    {
        var upkeep = Upkeep();
        upkeep.AfterMessage(new GetQueueStats("q"), _h.Engine, _timers);
        Assert.Equal(["passivate"], _timers.Active.Keys);
        Assert.True(upkeep.Serving);
    }

    [Fact(DisplayName = "the tick starts once while a lease is out and stops at the first tick after the last lease ended")]
    public void TickWhileLeased()
    {
        var upkeep = Upkeep();
        _h.Enqueue("a");
        var task = Assert.Single(_h.Poll());
        upkeep.AfterMessage(null, _h.Engine, _timers);
        upkeep.AfterMessage(null, _h.Engine, _timers);
        Assert.True(_timers.Active["tick"].Periodic);
        Assert.Equal(1, _timers.Starts("tick"));

        upkeep.OnTick(_h.Engine, _timers); // a lease still out: it goes on
        Assert.True(_timers.IsTimerActive("tick"));
        Assert.IsType<Completed>(_h.Call(new Complete(task.LeaseToken)));
        upkeep.AfterMessage(null, _h.Engine, _timers);
        upkeep.OnTick(_h.Engine, _timers);
        Assert.False(_timers.IsTimerActive("tick"));

        // The next lease starts it again.
        _h.Enqueue("b");
        Assert.Single(_h.Poll());
        upkeep.AfterMessage(null, _h.Engine, _timers);
        Assert.Equal(2, _timers.Starts("tick"));
    }

    [Fact(DisplayName = "a partition of a multi-partition queue reports its load once per change, and its own gossip tick does not start the timer again")]
    public void GossipOncePerChange()
    {
        var upkeep = Upkeep(gossips: true);
        Assert.True(_timers.IsTimerActive("gossip"));
        Assert.False(upkeep.HasReported);

        _timers.Fire("gossip");
        Assert.Equal(0, upkeep.LoadToReport(_h.Engine)?.Ready);
        upkeep.AfterMessage(PartitionUpkeep.GossipTick.Instance, _h.Engine, _timers);
        Assert.False(_timers.IsTimerActive("gossip"));
        Assert.True(upkeep.HasReported);
        Assert.Null(upkeep.LoadToReport(_h.Engine)); // nothing changed

        _h.Enqueue("a");
        upkeep.AfterMessage(null, _h.Engine, _timers);
        Assert.True(_timers.IsTimerActive("gossip"));
        Assert.Equal(1, upkeep.LoadToReport(_h.Engine)?.Ready);
    }

    [Fact(DisplayName = "a gossip tick as the actor gets it, in Akka's timer wrapper, does not start the gossip timer again either")]
    public void WrappedGossipTickDoesNotRearm()
    {
        var upkeep = Upkeep(gossips: true);
        _timers.Fire("gossip");
        Assert.Equal(0, upkeep.LoadToReport(_h.Engine)?.Ready);
        upkeep.AfterMessage(new WrappedTimerMessage(PartitionUpkeep.GossipTick.Instance), _h.Engine, _timers);
        Assert.False(_timers.IsTimerActive("gossip"));
        Assert.Equal(1, _timers.Starts("gossip"));
    }

    /// <summary>What <c>ActorBase.AroundReceive</c> is handed for a timer's message: a wrapper (Akka's own type is internal).</summary>
    private sealed class WrappedTimerMessage(object message) : IWrappedMessage
    {
        public object Message => message;
    }

    [Fact(DisplayName = "passivation is due only after the idle time without a break: a busy spell cancels the check, the next idle moment starts it again, and a busy partition holds none")]
    public void PassivatesAfterIdleWithoutBreak()
    {
        var upkeep = Upkeep(); // idle from 0
        Assert.Equal(TimeSpan.FromMilliseconds(120_000), _timers.Active["passivate"].Delay);

        _clock = 10_000;
        _h.Enqueue("a");
        var task = Assert.Single(_h.Poll());
        upkeep.AfterMessage(null, _h.Engine, _timers);
        Assert.False(_timers.IsTimerActive("passivate")); // busy: no check
        _clock = 30_000;
        _h.Call(new Complete(task.LeaseToken));
        upkeep.AfterMessage(null, _h.Engine, _timers); // idle again from 30 s
        Assert.Equal(TimeSpan.FromMilliseconds(120_000), _timers.Active["passivate"].Delay);
        Assert.Equal(2, _timers.Starts("passivate"));

        // A check that fires before its time (it cannot, on a steady clock) waits out the rest.
        _clock = 120_000;
        _timers.Fire("passivate");
        Assert.False(upkeep.PassivationDue(_h.Engine, _timers));
        Assert.Equal(TimeSpan.FromMilliseconds(30_000), _timers.Active["passivate"].Delay);

        _clock = 150_000;
        _timers.Fire("passivate");
        Assert.True(upkeep.PassivationDue(_h.Engine, _timers));
        Assert.False(upkeep.Serving);

        // A partition holding tasks nobody polls holds no timer at all.
        var holding = Upkeep();
        _h.Enqueue("b");
        holding.AfterMessage(null, _h.Engine, _timers);
        Assert.False(_timers.IsTimerActive("passivate"));
        // And a check of its idle spell that fires anyway (sent just before it was cancelled) is not due.
        Assert.False(holding.PassivationDue(_h.Engine, _timers));
        Assert.False(_timers.IsTimerActive("passivate"));
    }

    [Fact(DisplayName = "compaction at rest is armed only while the engine has something to compact")]
    public void HousekeepingWhileCompactionWaits()
    {
        var h = new EngineHarness(Options with { SnapshotEvery = 4 });
        var upkeep = new PartitionUpkeep(h.Options, gossips: false, () => _clock);
        upkeep.Start(h.Engine, _timers);
        Assert.False(_timers.IsTimerActive("housekeeping")); // nothing written since the last snapshot

        h.Enqueue("a"); // a quarter of SnapshotEvery written since
        Assert.True(h.Engine.WantsCompactionAtRest);
        upkeep.AfterMessage(null, h.Engine, _timers);
        Assert.Equal(TimeSpan.FromMilliseconds(h.Options.CompactAtRestAfterMs), _timers.Active["housekeeping"].Delay);
    }

    [Fact(DisplayName = "stopping cancels every timer, and the partition no longer counts as serving")]
    public void StopCancelsAll()
    {
        var upkeep = Upkeep(gossips: true);
        _h.Enqueue("a");
        Assert.Single(_h.Poll());
        upkeep.AfterMessage(null, _h.Engine, _timers);
        Assert.NotEmpty(_timers.Active);
        upkeep.Stop(_timers);
        Assert.Empty(_timers.Active);
        Assert.False(upkeep.Serving);
    }
}
