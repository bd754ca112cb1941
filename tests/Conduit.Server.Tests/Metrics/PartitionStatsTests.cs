using Conduit.Protocol;
using Conduit.Server.Metrics;
using Conduit.Server.Tests.Matching;
using Xunit;

namespace Conduit.Server.Tests.Metrics;

/// <summary>What a partition counts for the node's metrics, through the engine without Akka.</summary>
public sealed class PartitionStatsTests
{
    [Fact(DisplayName = "a task enqueued while a poller waits counts as a sync match, one a later poll takes from the backlog as a backlog dispatch")]
    public void SyncAndBacklogDispatches()
    {
        var h = new EngineHarness();
        var waiting = new object();
        h.Send(waiting, new Poll("q", 1, 5_000));
        h.Enqueue("to the waiting poller");
        Assert.Single(h.RepliesTo(waiting).OfType<Polled>().Single().Tasks);
        h.Enqueue("to the backlog");
        Assert.Single(h.Poll());

        Assert.Equal((1, 1), (h.Stats.Counter(PartitionCounter.DispatchedSync), h.Stats.Counter(PartitionCounter.DispatchedBacklog)));
        Assert.Equal(2, h.Stats.Counter(PartitionCounter.Enqueued));
    }

    [Fact(DisplayName = "completions, failures, retries, dead letters and expired leases are counted, and the gauges follow the tasks")]
    public void OutcomesAndGauges()
    {
        var h = new EngineHarness();
        h.Enqueue("done");
        h.Enqueue("dies", maxAttempts: 1);
        h.Enqueue("expires");
        h.Enqueue("waits");
        h.Engine.PublishGauges();
        Assert.Equal(4, h.Stats.Gauge(PartitionGauge.Ready));
        Assert.Equal(h.Now, h.Stats.OldestReadyEnqueuedAtMs);

        var done = h.Poll().Single();
        var dies = h.Poll().Single();
        Assert.Single(h.Poll(leaseMs: 1_000)); // "expires"
        h.Engine.PublishGauges();
        Assert.Equal((1, 3), (h.Stats.Gauge(PartitionGauge.Ready), h.Stats.Gauge(PartitionGauge.Running)));

        Assert.IsType<Completed>(h.Call(new Complete(done.LeaseToken)));
        Assert.IsType<Failed>(h.Call(new Fail(dies.LeaseToken, "broken")));
        h.Now += 2_000; // past the 1 s lease of "expires"
        h.Engine.OnTick();
        h.Flush(); // the retry's write
        h.Engine.PublishGauges();

        Assert.Equal(1, h.Stats.Counter(PartitionCounter.Completed));
        Assert.Equal(1, h.Stats.Counter(PartitionCounter.Failed));
        Assert.Equal(1, h.Stats.Counter(PartitionCounter.DeadLettered));
        Assert.Equal(1, h.Stats.Counter(PartitionCounter.LeaseExpired));
        Assert.Equal(1, h.Stats.Counter(PartitionCounter.Retried)); // the expired one runs again after a backoff
        Assert.Equal(0, h.Stats.Gauge(PartitionGauge.Running));
        Assert.Equal(1, h.Stats.Gauge(PartitionGauge.DeadLettered));
        // "waits" is still ready; the expired one waits out its retry backoff.
        Assert.Equal((1, 1), (h.Stats.Gauge(PartitionGauge.Ready), h.Stats.Gauge(PartitionGauge.Delayed)));
    }
}
