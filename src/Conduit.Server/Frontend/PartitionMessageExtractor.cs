using Akka.Cluster.Sharding;
using Akka.Event;

namespace Conduit.Server.Frontend;

/// <summary>
/// Sharding routes a <see cref="PartitionEnvelope"/> to the partition entity it names and delivers the request inside.
/// Anyone who reaches a node can send to the shard region directly, so an envelope is checked against the
/// <see cref="QueueTopology"/> first: one that names no partition that exists, or carries no request, is dropped
/// (never starting or remembering an entity) and counted; the count is logged at most once a minute.
/// The extractor never throws.
/// </summary>
public sealed class PartitionMessageExtractor(QueueTopology topology, int maxShards) : HashCodeMessageExtractor(maxShards)
{
    /// <summary>Texts the shard region logs for each message its extractor refuses; they are filtered out, since this class logs the drops instead (rate-limited, escaped).</summary>
    public static readonly string[] RegionDropLogTexts = ["Message does not have an extractor defined in shard", "Shard must not be empty"];

    private static readonly long LogIntervalMs = 60_000;
    private long _dropped;
    private long _nextLogAtMs;
    private string? _firstDropped;
    private ILoggingAdapter? _log;

    /// <summary>Envelopes dropped since the node started.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Where drops are reported; until set they are only counted.</summary>
    public void AttachLog(ILoggingAdapter log) => _log = log;

    public override string? EntityId(object message)
    {
        if (message is not PartitionEnvelope envelope) return null;
        if (envelope.Request is not null && topology.TryResolve(envelope.PartitionId, out _)) return envelope.PartitionId;
        Drop(envelope.PartitionId);
        return null;
    }

    public override object? EntityMessage(object message) => message is PartitionEnvelope envelope ? envelope.Request : message;

    /// <summary>
    /// Also asked for ids that never passed <see cref="EntityId"/>: Akka's own <c>ShardingEnvelope</c> and
    /// <c>StartEntity</c> name their entity themselves. An id outside the topology gets the empty shard id, which the
    /// region drops ("Shard must not be empty") before any shard stores or starts it: an empty entity id would otherwise
    /// make Akka's shard throw while creating the entity, in a loop that remember-entities brings back after a restart.
    /// </summary>
    public override string ShardId(string entityId, object? messageHint = null)
    {
        if (topology.TryResolve(entityId, out _)) return base.ShardId(entityId, messageHint);
        Drop(entityId);
        return "";
    }

    private void Drop(string? entityId)
    {
        Interlocked.Increment(ref _dropped);
        Interlocked.CompareExchange(ref _firstDropped, entityId ?? "(null)", null);
        var now = Environment.TickCount64;
        var next = Interlocked.Read(ref _nextLogAtMs);
        if (now < next || Interlocked.CompareExchange(ref _nextLogAtMs, now + LogIntervalMs, next) != next) return;
        var first = Interlocked.Exchange(ref _firstDropped, null);
        _log?.Warning("Dropped partition envelopes that name no partition of this cluster's topology ({0} since start; one named '{1}')",
            Dropped, SafeText.Escape(first, 160));
    }
}
