using Conduit.Server.Hosting;
using Conduit.Testing;
using Xunit;

namespace Conduit.Node.Tests.Faults;

public sealed class FailoverTimingsTests
{
    [Fact(DisplayName = "a node runs with the shipped failover timings: breakers, recovery timeout, downing, removal margin and sharding timeouts")]
    public async Task ShippedTimingsAreInEffect()
    {
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        await using var node = await TestNode.StartAsync(StorageOptions.Sqlite(data));
        var config = node.System.Settings.Config;
        // What the plugins read: their own section over Akka's plugin fallback.
        var journal = config.GetConfig("akka.persistence.journal.sql").WithFallback(config.GetConfig("akka.persistence.journal-plugin-fallback"));
        Assert.Equal(FailoverTimings.BreakerResetTimeout, journal.GetTimeSpan("circuit-breaker.reset-timeout"));
        Assert.Equal(FailoverTimings.JournalBreakerMaxFailures, journal.GetInt("circuit-breaker.max-failures"));
        Assert.Equal(FailoverTimings.RecoveryEventTimeout, journal.GetTimeSpan("recovery-event-timeout"));
        Assert.Equal(FailoverTimings.SnapshotBreakerMaxFailures, config.GetInt("akka.persistence.snapshot-store.sql.circuit-breaker.max-failures"));
        Assert.Equal(FailoverTimings.StableAfter, config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(FailoverTimings.DownRemovalMargin, config.GetTimeSpan("akka.cluster.down-removal-margin"));
        Assert.Equal(FailoverTimings.AcceptableHeartbeatPause, config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(FailoverTimings.HeartbeatInterval, config.GetTimeSpan("akka.cluster.failure-detector.heartbeat-interval"));
        Assert.Equal(FailoverTimings.UnreachableReaperInterval, config.GetTimeSpan("akka.cluster.unreachable-nodes-reaper-interval"));
        Assert.Equal(FailoverTimings.GossipInterval, config.GetTimeSpan("akka.cluster.gossip-interval"));
        Assert.Equal(FailoverTimings.LeaderActionsInterval, config.GetTimeSpan("akka.cluster.leader-actions-interval"));
        Assert.Equal(FailoverTimings.UpdatingStateTimeout, config.GetTimeSpan("akka.cluster.sharding.updating-state-timeout"));
        Assert.Equal(FailoverTimings.WaitingForStateTimeout, config.GetTimeSpan("akka.cluster.sharding.waiting-for-state-timeout"));
        Assert.Equal(FailoverTimings.ShardFailureBackoff, config.GetTimeSpan("akka.cluster.sharding.shard-failure-backoff"));
    }

    [Fact(DisplayName = "a node's client endpoint ticks every 100 ms like every remoting-only system; the cluster system keeps Akka's 10 ms")]
    public async Task ClientEndpointTicksCoarsely()
    {
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        await using var node = await TestNode.StartAsync(StorageOptions.Sqlite(data));
        Assert.Equal(Conduit.Protocol.Remoting.RemotingEndpoint.RemoteOnlySchedulerTick,
            node.ClientEndpoint.System.Settings.Config.GetTimeSpan("akka.scheduler.tick-duration"));
        // The partitions' timers (long-poll deadlines, rate-limit refills, delayed tasks) run on the cluster system.
        Assert.Equal(TimeSpan.FromMilliseconds(10), node.System.Settings.Config.GetTimeSpan("akka.scheduler.tick-duration"));
    }

    [Fact(DisplayName = "a node's journal, snapshot store and read journal open new connections instead of cloning one (the plugin's default clones)")]
    public async Task StoragePluginsDoNotCloneConnections()
    {
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        await using var node = await TestNode.StartAsync(StorageOptions.Sqlite(data));
        // What the plugins read: the node's configuration over the plugin's reference configuration, which says true.
        var config = node.System.Settings.Config.WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
        foreach (var plugin in new[] { "akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql", "akka.persistence.query.journal.sql" })
            Assert.False(config.GetBoolean(plugin + ".use-clone-connection"), plugin);
    }

    [Fact(DisplayName = "a node's read journal does not poll the global ordering: its sequence actor waits a day between queries")]
    public async Task ReadJournalSequenceActorSleeps()
    {
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        await using var node = await TestNode.StartAsync(StorageOptions.Sqlite(data));
        Assert.Equal(TimeSpan.FromHours(24),
            node.System.Settings.Config.GetTimeSpan("akka.persistence.query.journal.sql.journal-sequence-retrieval.query-delay"));
    }
}
