using Akka.Actor;
using Akka.Event;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Conduit.Protocol.Serialization;
using Conduit.Server.Frontend;
using Conduit.Server.Gossip;
using Conduit.Server.Matching;
using Conduit.Server.Persistence;
using LinqToDB;

namespace Conduit.Server.Hosting;

/// <summary>Marker for the partitions' shard region (or proxy) in the <see cref="ActorRegistry"/>.</summary>
public sealed class PartitionRegion;

/// <summary>Marker for the schedules' shard region (or proxy) in the <see cref="ActorRegistry"/>.</summary>
public sealed class ScheduleRegion;

/// <summary>Marker for a task-service node's task history (<see cref="History.TaskHistoryActor"/>) in the <see cref="ActorRegistry"/>.</summary>
public sealed class TaskHistory;

/// <summary>Marker for the node's <see cref="QueueFrontend"/> in the <see cref="ActorRegistry"/>.</summary>
public sealed class ConduitFrontend;

public static class ConduitHostingExtensions
{
    public const string PartitionsTypeName = "partitions";
    /// <summary>Type name of the schedules' shard region (<c>/system/sharding/schedules</c>).</summary>
    public const string SchedulesTypeName = "schedules";
    /// <summary>Name of the cluster's frontend actor (<c>/user/frontend</c> of the cluster system; clients reach it through the client endpoint).</summary>
    public const string FrontendName = "frontend";

    /// <summary>
    /// Binds protocol messages and journal events to Conduit's binary serializers; nothing falls back to JSON.
    /// The protocol binding is <see cref="ConduitSerialization"/>'s HOCON, the same one the client library uses.
    /// </summary>
    public static AkkaConfigurationBuilder WithConduitSerialization(this AkkaConfigurationBuilder builder) =>
        builder
            .AddHocon(ConduitSerialization.Config(strict: true), HoconAddMode.Prepend)
            .WithCustomSerializer("conduit-journal", [typeof(IConduitEvent)], system => new JournalSerializer(system))
            .WithStrictSerialization(true);

    /// <summary>
    /// The read journal's settings. Partitions read their own events by persistence id only (page-ins, relocation), never
    /// by tag or by global ordering, but the read journal starts a <c>JournalSequenceActor</c> anyway, which asks the
    /// database for the next 10,000 orderings every second and tracks the gaps in them. Compaction deletes events
    /// continuously, so it never catches up and its gap search grows with the journal's history: in a 10-minute
    /// sustained mix it took the node's CPU per task from 128 to 292 µs (BENCHMARKS.md). Its query delay is a day, so
    /// it runs once at start and then sleeps.
    /// </summary>
    public const string ReadJournalHocon = "akka.persistence.query.journal.sql.journal-sequence-retrieval.query-delay = 24h";

    /// <summary>
    /// Every journal, snapshot-store and read-journal call opens a new linq2db <c>DataConnection</c> from the plugin's
    /// options instead of cloning a template connection (Akka.Persistence.Sql's default). With linq2db 6.5 a clone
    /// goes through linq2db's configuration again on every call (the node's profiles showed <c>ConfigurationApplier.Apply</c>
    /// and <c>MappingSchema.CombineSchemas</c> under every write); a new connection from the same options reuses what
    /// they saved the first time. One journal write of a 100-byte event costs 36 KiB of allocations instead of 55 KiB,
    /// and about a fifth less CPU (noisy): <c>bench/run.sh --only 8</c>, BENCHMARKS.md.
    /// </summary>
    public const string ConnectionHocon = """
        akka.persistence.journal.sql.use-clone-connection = false
        akka.persistence.snapshot-store.sql.use-clone-connection = false
        akka.persistence.query.journal.sql.use-clone-connection = false
        """;

    /// <summary>
    /// Journal and snapshot store in SQLite or PostgreSQL (Akka.Persistence.Sql); tables are created at start. Their circuit
    /// breakers and recovery timeout are <see cref="FailoverTimings"/>'s, so partitions serve again within seconds of the
    /// database's return.
    /// </summary>
    public static AkkaConfigurationBuilder WithConduitStorage(this AkkaConfigurationBuilder builder, StorageOptions storage)
    {
        var provider = storage.Kind == StorageKind.Sqlite ? ProviderName.SQLiteMS : ProviderName.PostgreSQL15;
        return builder
            .WithSqlPersistence(storage.ConnectionString, provider, autoInitialize: true)
            // Appended: below ExtraHocon and hocon/ files, which may override them; nothing else sets these keys.
            .AddHocon(FailoverTimings.StorageHocon(), HoconAddMode.Append)
            // Prepended: Akka.Persistence.Sql.Hosting writes its own query-delay (1 s) into the configuration it generates.
            .AddHocon(ReadJournalHocon, HoconAddMode.Prepend)
            // Prepended too: Akka.Persistence.Sql.Hosting appends the plugins' reference configuration, which says true.
            .AddHocon(ConnectionHocon, HoconAddMode.Prepend)
            // Loads persistence (and so auto-starts both plugins: tables created, connections opened) as the node starts,
            // before the shard region exists; otherwise the first shard's remember-entities recovery does it, cold, and on
            // a loaded 2-core machine that took longer than the shard's load timeout.
            .StartActors(new ActorStarter((system, _) => StorageReady(Akka.Persistence.Persistence.Instance.Apply(system), system)));
    }

    /// <summary>How long a starting node waits for its journal and snapshot store to have their tables (<see cref="StorageReady"/>).</summary>
    public static readonly TimeSpan StorageReadyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Waits until both plugins have created their tables, before anything that reads or writes starts (shard regions,
    /// partitions, the read journal; the task history's table is created next, in <see cref="WithConduitServer"/>).
    /// Each plugin creates its tables and indexes on a connection of its own and holds back only requests to itself, so
    /// a first partition's recovery used to run its snapshot load and sequence-number query while the other plugin
    /// changed the schema: on a new SQLite file, a clean-clone CI run once saw a partition fail its first recovery with
    /// SQLite's bare "SQL logic error", and SQLite's own log of such starts shows "database schema has changed" and "no
    /// such table" under those first statements (retried by SQLite, or failed). A request each plugin answers only once
    /// initialized is the barrier: replaying a persistence id that has no events, and loading its snapshot. Bounded and
    /// not fatal: with the database down, the node starts after <see cref="StorageReadyTimeout"/> and its partitions
    /// recover when the database returns.
    /// </summary>
    private static async Task StorageReady(Akka.Persistence.PersistenceExtension persistence, ActorSystem system)
    {
        const string probe = "conduit-storage-ready";
        try
        {
            await Task.WhenAll(
                persistence.JournalFor(null).Ask<object>(
                    (Func<IActorRef, object>)(replyTo => new Akka.Persistence.ReplayMessages(1, 0, 0, probe, replyTo)), StorageReadyTimeout, CancellationToken.None),
                persistence.SnapshotStoreFor(null).Ask<object>(
                    new Akka.Persistence.LoadSnapshot(probe, Akka.Persistence.SnapshotSelectionCriteria.None, 0), StorageReadyTimeout));
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            Logging.GetLogger(system, "conduit.storage").Warning(
                "The journal or snapshot store did not answer within {0:0} s of the node's start; starting without waiting for them", StorageReadyTimeout.TotalSeconds);
        }
    }

    /// <summary>
    /// The partitions' shard region on <c>taskservice</c> nodes (a proxy elsewhere) and, on <c>frontend</c> nodes,
    /// the <see cref="QueueFrontend"/> registered as <see cref="ConduitFrontend"/>.
    /// </summary>
    /// <param name="metrics">The node's metrics, which partitions, writers and the node-level gauges report to (null: none).</param>
    /// <param name="storage">The node's database, where task-service nodes keep the task history (null: no history).</param>
    public static AkkaConfigurationBuilder WithConduitServer(this AkkaConfigurationBuilder builder, ConduitServerOptions options,
        Metrics.ServerMetrics? metrics = null, StorageOptions? storage = null)
    {
        var topology = options.Topology;
        var policies = options.Policies;
        var extractor = new PartitionMessageExtractor(topology, options.MaxShards);
        // The shard region logs every message its extractor refuses, whole and per message; the extractor logs them instead, escaped and at most once a minute.
        var filters = new LogFilterBuilder();
        foreach (var text in PartitionMessageExtractor.RegionDropLogTexts) filters.ExcludeMessageContaining(text);
        // Sharding warns about any custom remember-entities store; Conduit's is Akka's own store, restarted (RetryingRememberEntitiesProvider).
        filters.ExcludeMessageContaining(RetryingRememberEntitiesProvider.CustomStoreWarning);
        builder.AddSetup(filters.Build());
        builder.WithActors((system, _) => extractor.AttachLog(Logging.GetLogger(system, "conduit.partitions")));
        if (options.IsTaskService)
        {
            var census = new PartitionCensus();
            builder.AddHocon(RetryingRememberEntitiesProvider.Hocon, HoconAddMode.Append);
            builder.AddHocon(CompactMailbox.Hocon, HoconAddMode.Append);
            builder.WithActors((system, _) => metrics?.Attach(system, census));
            builder.WithActors((system, _) =>
                system.ActorOf(LoadPublisher.Props(TimeSpan.FromMilliseconds(options.Partition.GossipIntervalMs)), LoadPublisher.Name));
            var keepsHistory = storage is not null && options.History.Enabled;
            if (keepsHistory)
            {
                // Its table too, on the same database, before any partition recovers (see StorageReady); the actor creates it
                // again (a no-op then) and owns the retries and the log when the database is down.
                builder.StartActors(new ActorStarter(async (_, _) =>
                {
                    using var deadline = new CancellationTokenSource(StorageReadyTimeout);
                    try { await new History.TaskHistoryStore(storage!).EnsureCreatedAsync(deadline.Token); }
                    catch (Exception) { /* the actor tries again and says why */ }
                }));
                builder.WithActors((system, registry) =>
                {
                    var history = system.ActorOf(History.TaskHistoryActor.Props(new History.TaskHistoryStore(storage!), options.History),
                        History.TaskHistoryActor.Name);
                    registry.Register<TaskHistory>(history);
                    // Partitions handing off at shutdown complete tasks to the last moment: their results are written
                    // before the system stops (at most 4 s, inside the phase's 5 s; what is left then is answered as maybe not kept).
                    CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "task-history-drain", async () =>
                    {
                        try { await history.Ask<Akka.Done>(History.TaskHistoryActor.Drain.Instance, TimeSpan.FromSeconds(4)); }
                        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException) { }
                        return Akka.Done.Instance;
                    });
                });
            }
            builder.WithShardRegion<PartitionRegion>(PartitionsTypeName,
                (_, registry, _) => entityId => PartitionProps(entityId, topology, policies, options, census, metrics,
                    keepsHistory ? registry.Get<TaskHistory>() : null),
                extractor,
                // Partitions holding work restart after a rebalance or crash, so delayed tasks fire on time; empty ones
                // passivate themselves (PartitionOptions.PassivateIdleAfterMs).
                RememberedEntities(PartitionHandOff.Instance));
        }
        else
        {
            builder.WithShardRegionProxy<PartitionRegion>(PartitionsTypeName, ConduitServerOptions.TaskServiceRole, extractor);
            builder.WithActors((system, _) => metrics?.Attach(system, null));
        }
        WithSchedules(builder, options);
        if (options.IsFrontend)
        {
            builder.WithActors((system, registry) =>
            {
                var region = registry.Get<PartitionRegion>();
                var frontend = system.ActorOf(QueueFrontend.Props(region, options.Topology, options.PollProbeMs, policies), FrontendName);
                // Clients reach it through the node's client endpoint (Gateway/ClientEndpoint), never directly.
                registry.Register<ConduitFrontend>(frontend);
            });
        }
        return builder;
    }

    /// <summary>
    /// The schedules' shard region on task-service nodes (a proxy elsewhere): one remembered entity per schedule, so a
    /// schedule's timer runs again on another node after a failover (Scheduling/ScheduleEntity).
    /// </summary>
    private static void WithSchedules(AkkaConfigurationBuilder builder, ConduitServerOptions options)
    {
        var extractor = new Scheduling.ScheduleMessageExtractor(options.MaxShards);
        if (!options.IsTaskService)
        {
            builder.WithShardRegionProxy<ScheduleRegion>(SchedulesTypeName, ConduitServerOptions.TaskServiceRole, extractor);
            return;
        }
        builder.WithShardRegion<ScheduleRegion>(SchedulesTypeName,
            (system, registry, _) => entityId => Scheduling.ScheduleMessageExtractor.TryParse(entityId, out var ns, out var name)
                ? Scheduling.ScheduleEntity.Props(ns, name, registry.Get<PartitionRegion>(), options.Topology, options.Policies)
                : RefusedPartition.Props(new Rejected(ErrorCode.InvalidArgument, "no such schedule id")),
            extractor,
            RememberedEntities(handOffStopMessage: null));
    }

    /// <summary>
    /// Shard options of Conduit's regions: on task-service nodes, entities remembered (eventsourced, as durable
    /// DistributedData is not usable here) so they run again after a rebalance or a crash, no idle passivation by the
    /// shard (entities passivate themselves). <paramref name="handOffStopMessage"/>: what an entity gets when its shard
    /// moves (null: Akka's PoisonPill).
    /// </summary>
    private static ShardOptions RememberedEntities(object? handOffStopMessage)
    {
        var options = new ShardOptions
        {
            Role = ConduitServerOptions.TaskServiceRole,
            StateStoreMode = StateStoreMode.DData,
            RememberEntities = true,
            // Akka's event-sourced store, started again while the database is down (RetryingRememberEntitiesProvider).
            RememberEntitiesStore = RememberEntitiesStore.Custom,
            PassivateIdleEntityAfter = TimeSpan.Zero,
        };
        if (handOffStopMessage is not null) options.HandOffStopMessage = handOffStopMessage;
        return options;
    }

    /// <summary>
    /// The entity factory: never throws, whatever the id (an id can come straight from the network, or be remembered from
    /// before). Ids that name no partition, and partitions past the node's limit, get a <see cref="RefusedPartition"/>.
    /// </summary>
    private static Props PartitionProps(string entityId, QueueTopology topology, QueuePolicies policies, ConduitServerOptions options,
        PartitionCensus census,
        Metrics.ServerMetrics? metrics, IActorRef? history)
    {
        if (!topology.TryResolve(entityId, out var id))
            return RefusedPartition.Props(new Rejected(ErrorCode.TaskNotFound, "no such partition in this cluster's topology"));
        if (!census.TryAdmit(options.MaxLivePartitionsPerNode))
            return RefusedPartition.Props(new Rejected(ErrorCode.QuotaExceeded,
                $"this node already runs its limit of {options.MaxLivePartitionsPerNode} live partitions; idle ones passivate after " +
                $"{options.Partition.PassivateIdleAfterMs / 1000} s, or raise --max-live-partitions"));
        // Only partitions of queues with several partitions gossip their load: frontends route nothing else by it.
        var partitions = topology.PartitionsOf(id.Namespace, id.Queue);
        // The compact mailbox (configured above): most of a node's partitions are idle, and Akka's default mailbox is
        // over a KiB each; the partition gives its writer the same.
        return QueuePartition.Props(id, policies.For(id), census, gossips: partitions > 1, metrics, partitions, history)
            .WithMailbox(CompactMailbox.Id);
    }
}
