using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;

namespace Conduit.Server.Gossip;

/// <summary>
/// Queue-length gossip, after Temporal's forwarder hints: every partition reports its load here (one publisher per
/// node, at <see cref="Path"/>), and once a second the publisher writes what changed into one replicated
/// <see cref="LWWDictionary{TKey,TValue}"/> keyed by partition id. Frontends read it locally (<see cref="LoadView"/>).
/// </summary>
public sealed class LoadPublisher : ReceiveActor, IWithTimers
{
    public const string Name = "partition-load";
    public const string Path = "/user/" + Name;
    public static readonly LWWDictionaryKey<string, PartitionLoad> Key = new("conduit-partition-load");

    /// <summary>A partition's load; null when the partition stopped here.</summary>
    public sealed record Report(string PartitionId, PartitionLoad? Load);

    private sealed class Flush
    {
        public static readonly Flush Instance = new();
    }

    private readonly Dictionary<string, PartitionLoad?> _pending = new();
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly UniqueAddress _self = Cluster.Get(Context.System).SelfUniqueAddress;

    public LoadPublisher(TimeSpan interval)
    {
        Receive<Report>(r => _pending[r.PartitionId] = r.Load);
        Receive<Flush>(_ => Publish());
        Receive<UpdateSuccess>(_ => { });
        Receive<IUpdateFailure>(_ => { }); // local writes do not fail; the next report repairs anything
        Timers.StartPeriodicTimer("flush", Flush.Instance, interval);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TimeSpan interval) => Akka.Actor.Props.Create(() => new LoadPublisher(interval));

    private void Publish()
    {
        if (_pending.Count == 0) return;
        var changes = _pending.ToArray();
        _pending.Clear();
        _replicator.Tell(Dsl.Update(Key, LWWDictionary<string, PartitionLoad>.Empty, WriteLocal.Instance, map =>
        {
            foreach (var (id, load) in changes)
                map = load is null ? map.Remove(_self, id) : map.SetItem(_self, id, load);
            return map;
        }));
    }
}
