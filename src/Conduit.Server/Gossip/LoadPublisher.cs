using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;

namespace Conduit.Server.Gossip;

/// <summary>
/// Queue-length gossip, after Temporal's forwarder hints, as one aggregate per node: the partitions of multi-partition
/// queues report their load here when it changes (one publisher per node, at <see cref="Path"/>); the publisher keeps
/// the node's partitions that have load (ready tasks or waiting pollers) and, at most once per interval and only when
/// that set changed, writes it as this node's one entry (<see cref="NodeLoad"/>) of a replicated
/// <see cref="LWWDictionary{TKey,TValue}"/> keyed by node. A node with no loaded partitions writes an empty entry once
/// and then nothing. Frontends read it locally (<see cref="LoadView"/>). When a node leaves the cluster, every
/// publisher removes its entry, so what a crashed node last said does not linger.
/// </summary>
public sealed class LoadPublisher : ReceiveActor, IWithTimers
{
    public const string Name = "partition-load";
    public const string Path = "/user/" + Name;
    public static readonly LWWDictionaryKey<string, NodeLoad> Key = new("conduit-node-load");

    /// <summary>A partition's load; null when the partition stopped here.</summary>
    public sealed record Report(string PartitionId, PartitionLoad? Load);

    private sealed class Flush
    {
        public static readonly Flush Instance = new();
    }

    private readonly Dictionary<string, (long Ready, int Pollers)> _loaded = new();
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly TimeSpan _interval;
    private bool _changed;

    public LoadPublisher(TimeSpan interval)
    {
        _interval = interval;
        Receive<Report>(OnReport);
        Receive<Flush>(_ => Publish());
        Receive<ClusterEvent.MemberRemoved>(removed => _replicator.Tell(Dsl.Update(Key, LWWDictionary<string, NodeLoad>.Empty,
            WriteLocal.Instance, map => map.Remove(_cluster.SelfUniqueAddress, NodeKey(removed.Member.UniqueAddress)))));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<UpdateSuccess>(_ => { });
        Receive<IUpdateFailure>(_ => { }); // local writes do not fail; the next change repairs anything
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TimeSpan interval) => Akka.Actor.Props.Create(() => new LoadPublisher(interval));

    /// <summary>The entry of the node at <paramref name="address"/>.</summary>
    public static string NodeKey(UniqueAddress address) => $"{address.Address}#{address.Uid}";

    protected override void PreStart() => _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void OnReport(Report report)
    {
        var has = report.Load is { } load && (load.Ready > 0 || load.Pollers > 0);
        if (has)
        {
            var now = (report.Load!.Ready, report.Load.Pollers);
            if (_loaded.TryGetValue(report.PartitionId, out var before) && before == now) return;
            _loaded[report.PartitionId] = now;
        }
        else if (!_loaded.Remove(report.PartitionId))
        {
            return;
        }
        _changed = true;
        if (!Timers.IsTimerActive("flush")) Timers.StartSingleTimer("flush", Flush.Instance, _interval);
    }

    private void Publish()
    {
        if (!_changed) return;
        _changed = false;
        var ids = new string[_loaded.Count];
        var ready = new long[_loaded.Count];
        var pollers = new int[_loaded.Count];
        var i = 0;
        foreach (var (id, load) in _loaded)
        {
            (ids[i], ready[i], pollers[i]) = (id, load.Ready, load.Pollers);
            i++;
        }
        var entry = new NodeLoad(ids, ready, pollers, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var self = _cluster.SelfUniqueAddress;
        var key = NodeKey(self);
        _replicator.Tell(Dsl.Update(Key, LWWDictionary<string, NodeLoad>.Empty, WriteLocal.Instance, map => map.SetItem(self, key, entry)));
    }
}
