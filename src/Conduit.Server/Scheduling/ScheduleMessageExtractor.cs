using Akka.Cluster.Sharding;

namespace Conduit.Server.Scheduling;

/// <summary>
/// Routes a schedule request to its entity, <c>namespace/name</c>. A request whose names break the rules never starts
/// or remembers an entity (the management actor refuses it before; this holds for anything sent to the region
/// directly). Never throws.
/// </summary>
internal sealed class ScheduleMessageExtractor(int maxShards) : HashCodeMessageExtractor(maxShards)
{
    public static string EntityIdOf(string ns, string name) => $"{ns}/{name}";

    public static bool TryParse(string? entityId, out string ns, out string name)
    {
        (ns, name) = ("", "");
        var slash = entityId?.IndexOf('/') ?? -1;
        if (slash <= 0) return false;
        (ns, name) = (entityId![..slash], entityId[(slash + 1)..]);
        return ScheduleRules.CheckName(name, ns) is null;
    }

    public override string? EntityId(object message) =>
        message is IScheduleRequest request && ScheduleRules.CheckName(request.Name, request.Namespace) is null
            ? EntityIdOf(NamespaceName.OrDefault(request.Namespace), request.Name)
            : null;

    public override object? EntityMessage(object message) => message;

    /// <summary>Also asked for Akka's own <c>StartEntity</c> (remember-entities): an id that is no schedule's gets the empty shard id, which the region drops.</summary>
    public override string ShardId(string entityId, object? messageHint = null) =>
        TryParse(entityId, out _, out _) ? base.ShardId(entityId, messageHint) : "";
}
