using System.Collections.Frozen;

namespace Conduit.Server.Security;

/// <summary>
/// The role table: which roles may make each client request, and where. Pure; the gateway calls
/// <see cref="Check"/> with the authenticated <see cref="Identity"/> and the request's namespace
/// (<see cref="RequestNamespace.Of"/>).
/// <list type="bullet">
/// <item><b>producer</b>: Enqueue, EnqueueBatch, GetTask, in its namespaces.</item>
/// <item><b>worker</b>: Poll, CancelPoll, Heartbeat, Complete, Fail, ReleaseTasks, GetTask, in its namespaces.</item>
/// <item><b>operator</b>: every queue request in its namespaces (also GetQueueStats, PauseQueue, ResumeQueue, PurgeQueue,
/// ListDeadLetters, RequeueDeadLetters, ListTasks, CancelTask), and <see cref="OperatorRequest"/> in the namespace of the request it
/// carries. The cluster-wide requests (GetClusterState, ChangeMembership, GetShardingStats, GetLocalPartitions,
/// GetLocalSchedules, ListQueues) need the operator role in every namespace (<c>"*"</c>).</item>
/// </list>
/// A request type without a rule is refused (a test fails for any member of <see cref="IClientRequest"/> without one).
/// </summary>
internal static class Permissions
{
    /// <summary>Who may make a request: any of <paramref name="Allowed"/>, in its namespace or (when <paramref name="ClusterWide"/>) in every namespace.</summary>
    internal sealed record Rule(Role Allowed, string Operation, bool ClusterWide = false);

    private const Role Producer = Role.Producer | Role.Operator;
    private const Role Worker = Role.Worker | Role.Operator;
    private const Role ProducerOrWorker = Role.Producer | Role.Worker | Role.Operator;

    internal static readonly FrozenDictionary<Type, Rule> Rules = new Dictionary<Type, Rule>
    {
        [typeof(Enqueue)] = new(Producer, "enqueue tasks"),
        [typeof(EnqueueBatch)] = new(Producer, "enqueue tasks"),
        [typeof(GetTask)] = new(ProducerOrWorker, "read a task"),
        [typeof(Poll)] = new(Worker, "poll for tasks"),
        [typeof(CancelPoll)] = new(Worker, "cancel a poll"),
        [typeof(Heartbeat)] = new(Worker, "extend a lease"),
        [typeof(Complete)] = new(Worker, "complete tasks"),
        [typeof(Fail)] = new(Worker, "fail tasks"),
        [typeof(ReleaseTasks)] = new(Worker, "release tasks"),
        [typeof(CancelTask)] = new(Role.Operator, "cancel a task"),
        [typeof(GetQueueStats)] = new(Role.Operator, "read queue stats"),
        [typeof(PauseQueue)] = new(Role.Operator, "pause a queue"),
        [typeof(ResumeQueue)] = new(Role.Operator, "resume a queue"),
        [typeof(PurgeQueue)] = new(Role.Operator, "purge a queue"),
        [typeof(SetQueueLimits)] = new(Role.Operator, "set a queue's limits"),
        [typeof(ListDeadLetters)] = new(Role.Operator, "list dead letters"),
        [typeof(ListTasks)] = new(Role.Operator, "list tasks"),
        [typeof(RequeueDeadLetters)] = new(Role.Operator, "requeue dead letters"),
        [typeof(OperatorRequest)] = new(Role.Operator, "make an operator request"),
        [typeof(GetClusterState)] = new(Role.Operator, "read the cluster state", ClusterWide: true),
        [typeof(ChangeMembership)] = new(Role.Operator, "change cluster membership", ClusterWide: true),
        [typeof(GetShardingStats)] = new(Role.Operator, "read sharding stats", ClusterWide: true),
        [typeof(GetLocalPartitions)] = new(Role.Operator, "list a node's partitions", ClusterWide: true),
        [typeof(GetLocalSchedules)] = new(Role.Operator, "list a node's schedules", ClusterWide: true),
        [typeof(ListQueues)] = new(Role.Operator, "list the queues", ClusterWide: true),
        [typeof(PutSchedule)] = new(Role.Operator, "save a schedule"),
        [typeof(GetSchedule)] = new(Role.Operator, "read a schedule"),
        [typeof(PauseSchedule)] = new(Role.Operator, "pause a schedule"),
        [typeof(ResumeSchedule)] = new(Role.Operator, "resume a schedule"),
        [typeof(DeleteSchedule)] = new(Role.Operator, "delete a schedule"),
        [typeof(TriggerSchedule)] = new(Role.Operator, "trigger a schedule"),
        [typeof(ListSchedules)] = new(Role.Operator, "list the schedules"),
    }.ToFrozenDictionary();

    /// <summary>The rule for requests of <paramref name="type"/>; null when there is none (such a request is refused).</summary>
    public static Rule? RuleFor(Type type) => Rules.GetValueOrDefault(type);

    /// <summary>
    /// Null when <paramref name="who"/> may make <paramref name="request"/> in <paramref name="namespace"/> (ignored for
    /// cluster-wide requests; null for a namespaced one means the ids name no single namespace, and the role is then
    /// needed in every namespace). Otherwise <c>Rejected(Unauthorized, …)</c> naming the key, the operation, the
    /// namespace and the role it needs.
    /// </summary>
    public static Rejected? Check(Identity who, IClientRequest request, string? @namespace)
    {
        if (RuleFor(request.GetType()) is not { } rule)
            return Refuse($"key '{who.Name}' may not send {request.GetType().Name}: no permission rule covers it");

        var operation = request is OperatorRequest { Request: { } inner } && RuleFor(inner.GetType()) is { } innerRule
            ? $"{rule.Operation} ({innerRule.Operation})"
            : rule.Operation;
        var needed = Needed(rule.Allowed);
        if (!who.HasAny(rule.Allowed))
            return Refuse($"key '{who.Name}' ({Describe(who)}) may not {operation}{Where(rule, @namespace)}: that needs {needed}");

        if (rule.ClusterWide || @namespace is null)
        {
            if (who.IsInEveryNamespace) return null;
            return Refuse($"key '{who.Name}' ({Describe(who)}) may not {operation}{Where(rule, @namespace)}: " +
                          $"that needs {needed} in every namespace (\"*\")" +
                          (rule.ClusterWide ? ", as it concerns the whole cluster" : ", as the request's ids name no single namespace"));
        }
        if (who.CanUse(@namespace)) return null;
        return Refuse($"key '{who.Name}' ({Describe(who)}) may not {operation}{Where(rule, @namespace)}: " +
                      $"it has no role in that namespace, and {operation} needs {needed} there");
    }

    private static string Where(Rule rule, string? @namespace) =>
        rule.ClusterWide ? "" : @namespace is null ? " (namespace unknown)" : $" in namespace '{SafeText.Escape(@namespace, 140)}'";

    private static string Describe(Identity who) => $"{RoleNames.Format(who.Roles)} in {who.NamespacesText}";

    private static string Needed(Role allowed)
    {
        var names = RoleNames.Format(allowed).Split(',');
        return names.Length == 1 ? $"the {names[0]} role" : $"the {string.Join(", ", names[..^1])} or {names[^1]} role";
    }

    private static Rejected Refuse(string message) => new(ErrorCode.Unauthorized, message);
}
