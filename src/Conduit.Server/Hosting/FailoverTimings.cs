using System.Globalization;

namespace Conduit.Server.Hosting;

/// <summary>
/// The Akka timings that decide how fast a node recovers from a storage outage and how fast a crashed node's partitions
/// serve again elsewhere (docs/ownership-and-failover.md, "Recovery targets"). Each value says what it costs. HOCON from
/// <c>hocon/</c> or <see cref="NodeSettings.ExtraHocon"/> still overrides any of them.
/// </summary>
public static class FailoverTimings
{
    // ---- storage: Akka.Persistence's circuit breakers and recovery ----

    /// <summary>
    /// Consecutive journal failures that open the breaker. Defaults to 10 (Akka's own). While open, every journal call
    /// fails at once; this only saves the database from calls that would fail anyway, so the count hardly matters.
    /// </summary>
    public const int JournalBreakerMaxFailures = 10;

    /// <summary>
    /// Consecutive snapshot-store failures that open the breaker: so many that it never opens. Akka's is 5, and Akka
    /// (1.5.73) has a bug there: a half-open breaker throws from the snapshot store's receive instead of failing the
    /// call, so the store restarts, loses that load request (the recovering partition then waits out
    /// <see cref="RecoveryEventTimeout"/>: "Recovery timed out, didn't get snapshot") and, restarting, tries to create its
    /// tables, which fails again while the database is down. Costs: while the database is down every snapshot load
    /// (one per recovering partition per <c>RecoveryBackoffMs</c>) tries to connect instead of failing in memory.
    /// </summary>
    public const int SnapshotBreakerMaxFailures = 1_000_000_000;

    /// <summary>
    /// A journal or snapshot call slower than this counts as a failure (the caller still waits for it). Defaults to 10 s
    /// (Akka's journal default; its snapshot default is 20 s). A snapshot load slower than this on a very loaded database
    /// fails the recovery, which is tried again after <c>RecoveryBackoffMs</c>.
    /// </summary>
    public static readonly TimeSpan BreakerCallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an open breaker refuses every call before it lets one through to try the database again. Defaults to
    /// 1 s, where Akka's defaults are 30 s (journal) and 60 s (snapshots): that gap, repeated while the database was still
    /// down, kept partitions Unavailable for up to 86 s after it came back. Costs one real call per second per node (the
    /// breaker belongs to the node's journal, not to a partition) while the database is down.
    /// </summary>
    public static readonly TimeSpan BreakerResetTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A recovery that waits longer than this for the snapshot, or for the next page of events, fails and is tried again
    /// after <c>RecoveryBackoffMs</c>. Defaults to 30 s (Akka's own). Not lower: on a loaded 2-core machine a node's first
    /// snapshot load took more than 10 s (cold database connections and query compilation), and a partition does not
    /// need this to answer: it answers Unavailable after <c>RecoveryWaitMs</c> whatever its recovery does. The hangs
    /// that were blamed on this timeout came from the snapshot-store breaker (<see cref="SnapshotBreakerMaxFailures"/>).
    /// </summary>
    public static readonly TimeSpan RecoveryEventTimeout = TimeSpan.FromSeconds(30);

    // ---- failure detection and downing ----

    /// <summary>
    /// Heartbeats may stop for this long before a node is suspected (marked unreachable about 0.5–1.5 s later with
    /// <see cref="HeartbeatInterval"/> and <see cref="UnreachableReaperInterval"/>). Defaults to 2 s (Akka's is 3 s;
    /// measured, a killed node was unreachable 5.9 s after the kill with 3 s). Costs: a pause longer than this (GC, a starved process) makes a node unreachable for a moment,
    /// which alone changes nothing but restarts the <see cref="StableAfter"/> clock; see there for downing.
    /// </summary>
    public static readonly TimeSpan AcceptableHeartbeatPause = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often each node sends heartbeats to the nodes it monitors. Defaults to 500 ms (Akka's is 1 s): a killed node is
    /// suspected about <see cref="AcceptableHeartbeatPause"/> plus one to two intervals after its last heartbeat, so this
    /// takes about half a second off every failover. Costs: twice as many heartbeats, two small messages a second to
    /// each of at most nine monitored nodes; and a little less tolerance: a node is suspected once silent for about 3 s
    /// instead of 3.5 s (so a pause of 2.5-3 s may do it, where 2.5-3.5 s did), and a node that has just joined, whose
    /// detector has no history yet, after about 3.2 s instead of 4.3 s.
    /// </summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How often a node checks its failure detector and marks silent nodes unreachable. Defaults to 250 ms (Akka's is
    /// 1 s, which added up to a second to every failover after the detector had already decided). Costs: a check of a
    /// few timestamps four times a second.
    /// </summary>
    public static readonly TimeSpan UnreachableReaperInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How often a node spreads the cluster's membership to another (gossip). Defaults to 500 ms (Akka's is 1 s): the
    /// split-brain resolver's <see cref="StableAfter"/> starts when its leader learns that a node is unreachable, and a
    /// downed node's removal reaches the survivors (and with it the coordinator's move, when the oldest node died) by
    /// gossip too; each took up to a second more. Costs: twice as many gossip messages, which in a cluster of a few
    /// nodes are a few small messages a second.
    /// </summary>
    public static readonly TimeSpan GossipInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How often the cluster's leader acts on membership: moves joining nodes up and removes downed ones. Defaults to
    /// 250 ms (Akka's is 1 s, which left a downed node in the membership up to a second longer before its shards could
    /// move). Costs: the leader looks at the membership four times a second.
    /// </summary>
    public static readonly TimeSpan LeaderActionsInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The split-brain resolver downs the unreachable side (keep-majority) once membership has been stable this long.
    /// Defaults to 4 s (Akka's is 20 s; Conduit shipped 10 s). Costs: a node that is alive but silent for about
    /// <see cref="AcceptableHeartbeatPause"/> + 0.5–1.5 s + this (≈ 7–8 s: a long GC pause, a starved VM, a network blip) is
    /// downed and must restart; its partitions move, and tasks it had handed out may be delivered twice. Raise it where
    /// such pauses happen; every second added here is a second added to failover.
    /// </summary>
    public static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(4);

    /// <summary>
    /// After a node is downed and removed, how long sharding waits before it starts that node's shards elsewhere (Akka's
    /// <c>down-removal-margin</c>; unset, the split-brain resolver uses <see cref="StableAfter"/>, which added 10 s to
    /// every failover). Defaults to 1 s: the downed side of a real network split downs itself at the same
    /// <see cref="StableAfter"/> and stops its partitions within about a second. Costs: a downed node that is slower than
    /// that to stop can still hand out tasks from memory while the new owner starts, so those tasks may be delivered
    /// twice; the journal's fence (docs/ownership-and-failover.md) refuses every write of the old owner, so nothing
    /// acknowledged is lost and only one complete of each task counts.
    /// </summary>
    public static readonly TimeSpan DownRemovalMargin = TimeSpan.FromSeconds(1);

    // ---- sharding ----

    /// <summary>
    /// How often a shard region asks the coordinator again for a shard's home (and retries its registration) while it
    /// has no answer. Defaults to 1 s (Akka's is 2 s). Costs: a few more small messages to the coordinator while shards
    /// have no home.
    /// </summary>
    public static readonly TimeSpan ShardRetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A remembering shard that could not load or store its entity ids stops and is started again after this long.
    /// Defaults to 2 s (Akka's is 10 s, which kept a partition silent for 23 s after two failed starts). Costs: one more
    /// recovery of the shard's small remember-entities journal every 2 s while storage is down.
    /// </summary>
    public static readonly TimeSpan ShardFailureBackoff = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Akka's <c>updating-state-timeout</c>, which bounds a shard's first load of its remembered entity ids (a recovery
    /// of its remember-entities journal, which queues behind partition recoveries for a recovery permit; a store that
    /// fails meanwhile is not noticed, so a shard starting while the database is down waits this out) and a
    /// coordinator state write to a majority (retried on timeout). Defaults to 20 s (Akka's is 5 s: on a loaded 2-core
    /// machine shards failed to start, "Failed to load initial entity ids ... within [00:00:05]"). Costs: a coordinator
    /// write that reached no majority is retried after 20 s instead of 5 s; that only happens while a majority of the
    /// task-service nodes is unreachable, when nothing can move anyway.
    /// </summary>
    public static readonly TimeSpan UpdatingStateTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Akka's <c>waiting-for-state-timeout</c>, which bounds a shard's write of a started or stopped entity id to its
    /// remember-entities journal (on timeout the shard throws and restarts, stopping every partition in it) and the
    /// coordinator's first read of its state from a majority (asked again on timeout). Defaults to 10 s (Akka's is 2 s,
    /// shorter than one slow journal write on a loaded machine). Costs: a new coordinator whose first read reached no
    /// majority asks again after 10 s instead of 2 s.
    /// </summary>
    public static readonly TimeSpan WaitingForStateTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Storage settings for the journal and snapshot-store plugins (Akka.Persistence.Sql). Both start with the node, so
    /// their tables are created and their first queries compiled before any shard or partition recovers through them.
    /// </summary>
    public static string StorageHocon(string journalPluginPath = "akka.persistence.journal.sql",
        string snapshotPluginPath = "akka.persistence.snapshot-store.sql") => $"""
        akka.persistence.journal.auto-start-journals = ["{journalPluginPath}"]
        akka.persistence.snapshot-store.auto-start-snapshot-stores = ["{snapshotPluginPath}"]
        {journalPluginPath}.recovery-event-timeout = {Ms(RecoveryEventTimeout)}
        {journalPluginPath}.circuit-breaker.max-failures = {JournalBreakerMaxFailures}
        {journalPluginPath}.circuit-breaker.call-timeout = {Ms(BreakerCallTimeout)}
        {journalPluginPath}.circuit-breaker.reset-timeout = {Ms(BreakerResetTimeout)}
        {snapshotPluginPath}.circuit-breaker.max-failures = {SnapshotBreakerMaxFailures}
        {snapshotPluginPath}.circuit-breaker.call-timeout = {Ms(BreakerCallTimeout)}
        {snapshotPluginPath}.circuit-breaker.reset-timeout = {Ms(BreakerResetTimeout)}
        """;

    /// <summary>Failure detection, downing and sharding timings of a node.</summary>
    public static string ClusterHocon => $"""
        akka.cluster.failure-detector.acceptable-heartbeat-pause = {Ms(AcceptableHeartbeatPause)}
        akka.cluster.failure-detector.heartbeat-interval = {Ms(HeartbeatInterval)}
        akka.cluster.unreachable-nodes-reaper-interval = {Ms(UnreachableReaperInterval)}
        akka.cluster.gossip-interval = {Ms(GossipInterval)}
        akka.cluster.leader-actions-interval = {Ms(LeaderActionsInterval)}
        akka.cluster.split-brain-resolver.stable-after = {Ms(StableAfter)}
        akka.cluster.down-removal-margin = {Ms(DownRemovalMargin)}
        akka.cluster.sharding.retry-interval = {Ms(ShardRetryInterval)}
        akka.cluster.sharding.shard-failure-backoff = {Ms(ShardFailureBackoff)}
        akka.cluster.sharding.updating-state-timeout = {Ms(UpdatingStateTimeout)}
        akka.cluster.sharding.waiting-for-state-timeout = {Ms(WaitingForStateTimeout)}
        """;

    private static string Ms(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
}
