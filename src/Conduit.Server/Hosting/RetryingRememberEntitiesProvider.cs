using System.Reflection;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Cluster.Sharding.Internal;

namespace Conduit.Server.Hosting;

/// <summary>
/// Cluster sharding's event-sourced remember-entities stores (of shards and of the coordinator), kept answering through a storage outage.
/// <para>
/// Akka's own store is a persistent actor under a backoff supervisor: when the database is down its recovery (or a
/// write) fails, it stops, and the supervisor starts it again after <see cref="FailoverTimings.ShardFailureBackoff"/>;
/// but the request it was answering is lost, and the shard waits for it until its own timeout. A shard started during
/// an outage (a rebalance, a failover, a new queue's first request) so waited out the whole
/// <see cref="FailoverTimings.UpdatingStateTimeout"/> (20 s) and then <see cref="FailoverTimings.ShardFailureBackoff"/>:
/// its partitions answered nothing until about 15 s after the database came back (ProcessFaultTests, StorageOutageTests).
/// </para>
/// <para>
/// The shard coordinator's store has the same flaw: a shard allocated during an outage was remembered only after the
/// coordinator's own timeout (<see cref="FailoverTimings.UpdatingStateTimeout"/>, 20 s), and until then no region
/// learnt the shard's home.
/// </para>
/// <para>
/// Here each store (Akka's persistent actor itself) runs under a <see cref="RetryingStore"/>, which starts it again
/// every <see cref="RetryInterval"/> while a request is unanswered and sends it that request again, so a load or write
/// completes within about a second of the database's return. Events, persistence ids and journal are Akka's own, so
/// nodes with and without this read the same data.
/// </para>
/// Sharding creates this by name (<see cref="Hocon"/>, <c>remember-entities-store = custom</c>) with the region's
/// settings and type name. The two Akka types it uses are internal in Akka.Cluster.Sharding 1.5.73, hence reflection;
/// it fails at the region's start, never at the first outage, if an upgrade changes them (RetryingStoreTests creates one).
/// </summary>
public sealed class RetryingRememberEntitiesProvider : IRememberEntitiesProvider
{
    /// <summary>How often a stopped store is started again while the shard waits for it: one journal recovery a second per waiting shard.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>The line sharding logs for every region with a custom store ("not intended for production use"); the node filters it out.</summary>
    public const string CustomStoreWarning = "Using custom remember entities store for";

    /// <summary>Selects this provider for every remembering region of the node.</summary>
    public static readonly string Hocon =
        $"akka.cluster.sharding.remember-entities-custom-store = \"{typeof(RetryingRememberEntitiesProvider).AssemblyQualifiedName}\"";

    private const string AkkaShardStore = "Akka.Cluster.Sharding.Internal.EventSourcedRememberEntitiesShardStore";
    private const string AkkaCoordinatorStore = "Akka.Cluster.Sharding.Internal.EventSourcedRememberEntitiesCoordinatorStore";
    private readonly string _typeName;
    private readonly ClusterShardingSettings _settings;
    private readonly Func<string, string, ClusterShardingSettings, Props> _shardStore;
    private readonly Func<string, ClusterShardingSettings, Props> _coordinatorStore;

    /// <summary>Called by sharding (its CustomStateStoreModeProvider) with these two arguments, in this order.</summary>
    public RetryingRememberEntitiesProvider(ClusterShardingSettings settings, string typeName)
    {
        _typeName = typeName;
        _settings = settings;
        _shardStore = PropsFactory<Func<string, string, ClusterShardingSettings, Props>>(AkkaShardStore,
            typeof(string), typeof(string), typeof(ClusterShardingSettings));
        _coordinatorStore = PropsFactory<Func<string, ClusterShardingSettings, Props>>(AkkaCoordinatorStore,
            typeof(string), typeof(ClusterShardingSettings));
    }

    /// <summary>The static <c>Props(...)</c> of one of Akka's (internal) store actors.</summary>
    private static T PropsFactory<T>(string typeName, params Type[] parameters) where T : Delegate
    {
        var type = typeof(ClusterSharding).Assembly.GetType(typeName, throwOnError: false) ?? throw Changed(typeName);
        var method = type.GetMethod("Props", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, parameters);
        return method?.ReturnType == typeof(Props) ? method.CreateDelegate<T>() : throw Changed(typeName + ".Props");
    }

    private static InvalidOperationException Changed(string what) =>
        new($"Akka.Cluster.Sharding has no {what} as Conduit expects (was Akka upgraded?); see RetryingRememberEntitiesProvider");

    public Props ShardStoreProps(string shardId) => RetryingStore.Props(_shardStore(_typeName, shardId, _settings), RetryInterval);

    public Props CoordinatorStoreProps() => RetryingStore.Props(_coordinatorStore(_typeName, _settings), RetryInterval);
}

/// <summary>
/// Runs a store actor of sharding's request/reply protocol as its child and keeps it alive: each request is passed on
/// and remembered until the store answers; when the store stops with requests unanswered, a new one starts (after the
/// retry interval) and gets them again, in order. The messages are passed on as they are (the protocol's types are
/// internal to Akka), so an answer is not matched to its request: the keeper serves one asker, its parent (a shard or
/// the shard coordinator), which gets every answer, and an answer only takes the oldest request off the list (the
/// coordinator's store may answer a read before an earlier write; the list then says only how many are unanswered).
/// A request repeated after a failed write is harmless: the store's state is a set of ids, and an id started or
/// stopped twice is started or stopped.
/// </summary>
internal sealed class RetryingStore : UntypedActor, IWithTimers
{
    private sealed class Restart
    {
        public static readonly Restart Instance = new();
    }

    /// <summary>For tests: answered with <see cref="State"/>.</summary>
    internal sealed class Inspect
    {
        public static readonly Inspect Instance = new();
    }

    internal sealed record State(bool StoreRunning, int Unanswered);

    /// <summary>Each incarnation of the store is <c>store-1</c>, <c>store-2</c>, … (NodeLogger counts their storage lines as one actor's).</summary>
    public const string StoreNamePrefix = "store-";

    private readonly Props _storeProps;
    private readonly TimeSpan _retryInterval;
    private readonly Queue<(object Request, IActorRef ReplyTo)> _unanswered = new();
    private IActorRef? _store;
    private int _incarnation;
    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Props storeProps, TimeSpan retryInterval) =>
        Akka.Actor.Props.Create(() => new RetryingStore(storeProps, retryInterval));

    public RetryingStore(Props storeProps, TimeSpan retryInterval)
    {
        _storeProps = storeProps;
        _retryInterval = retryInterval;
    }

    protected override void PreStart() => StartStore();

    /// <summary>A store that throws is stopped, not restarted in place (which would lose the request it was on): its requests are sent again to a new one.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Terminated t when t.ActorRef.Equals(_store):
                _store = null;
                if (_unanswered.Count > 0) ScheduleRestart();
                break;
            case Terminated:
                break; // an earlier store, already replaced
            case Inspect:
                Sender.Tell(new State(_store is not null, _unanswered.Count));
                break;
            case Restart:
                if (_store is not null) break;
                StartStore();
                foreach (var (request, _) in _unanswered) _store!.Tell(request);
                break;
            case var reply when _store is not null && Sender.Equals(_store):
                _unanswered.TryDequeue(out _);
                Context.Parent.Tell(reply);
                break;
            default:
                // The coordinator asks again after its own timeout: while the store is down, the restart sends the first
                // ask anyway and one answer satisfies both; a live store gets the repeat (it may have lost the first).
                if (_store is null && _unanswered.Any(u => u.ReplyTo.Equals(Sender) && u.Request.Equals(message))) break;
                _unanswered.Enqueue((message, Sender));
                if (_store is null && !Timers.IsTimerActive(Restart.Instance)) StartStore(); // it stopped while idle: try at once
                _store?.Tell(message); // while a restart is due, the restart sends it
                break;
        }
    }

    private void StartStore()
    {
        _store = Context.Watch(Context.ActorOf(_storeProps, StoreNamePrefix + ++_incarnation));
    }

    private void ScheduleRestart()
    {
        if (!Timers.IsTimerActive(Restart.Instance)) Timers.StartSingleTimer(Restart.Instance, Restart.Instance, _retryInterval);
    }
}
