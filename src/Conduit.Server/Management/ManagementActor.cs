using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using Conduit.Server.Frontend;
using Conduit.Server.Hosting;

namespace Conduit.Server.Management;

/// <summary>
/// One per node at <c>/user/management</c> of the cluster system, behind the client endpoint's gateway: answers the
/// <c>conduit</c> CLI. Cluster state and membership changes (leave, down, join), the partitions' shard regions and
/// their stats, the list of queues (of every namespace) that have a running partition, and operator queue requests, which it routes
/// through a <see cref="QueueFrontend"/> of its own (so queue administration works on every node, whatever its
/// roles). Destructive requests (leave, down, purge, dead-letter requeue) are logged at warning level with who asked;
/// join, pause and resume at info level.
/// </summary>
public sealed class ManagementActor : ReceiveActor
{
    public const string Name = "management";

    private readonly IActorRef _region;
    private readonly IActorRef? _schedules;
    private readonly IActorRef? _scheduleGate;
    private readonly ConduitServerOptions _server;
    private readonly IActorRef _frontend;
    private readonly bool _hostsPartitions;
    private readonly ManagementOptions _options;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    /// <summary>The node's system, for what runs after an await (where Context is not available).</summary>
    private readonly ActorSystem _system = Context.System;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ManagementActor(IActorRef region, ConduitServerOptions server, ManagementOptions options, IActorRef? schedules = null)
    {
        _region = region;
        _schedules = schedules;
        // One namespace's schedule requests one at a time, in order, creations counted against the limit (ScheduleGate).
        if (schedules is not null)
            _scheduleGate = Context.ActorOf(Scheduling.ScheduleGate.Props(schedules, server.MaxSchedulesPerNamespace, options.FanOutTimeout,
                () => PartitionHosts().ToList()), "schedule-gate");
        _server = server;
        _hostsPartitions = server.IsTaskService;
        _options = options;
        _frontend = Context.ActorOf(QueueFrontend.Props(region, server.Topology, server.PollProbeMs, server.Policies), "frontend");

        Receive<GetClusterState>(_ => Sender.Tell(ClusterStateReader.Read(_cluster)));
        Receive<ChangeMembership>(HandleMembership);
        Receive<GetShardingStats>(_ => ShardingStats().PipeTo(Sender, failure: Unavailable("sharding stats")));
        Receive<GetLocalPartitions>(_ => LocalPartitions().PipeTo(Sender, failure: Unavailable("local partitions")));
        Receive<ListQueues>(_ => QueueList().PipeTo(Sender, failure: Unavailable("queue list")));
        Receive<OperatorRequest>(HandleOperatorRequest);
        Receive<IScheduleRequest>(HandleSchedule);
        Receive<ListSchedules>(list => Schedules(list).PipeTo(Sender, failure: Unavailable("schedule list")));
        Receive<GetLocalSchedules>(_ => LocalSchedules().PipeTo(Sender, failure: Unavailable("local schedules")));
    }

    public static Props Props(IActorRef region, ConduitServerOptions server, ManagementOptions? options = null, IActorRef? schedules = null) =>
        Akka.Actor.Props.Create(() => new ManagementActor(region, server, options ?? new ManagementOptions(), schedules));

    /// <summary>Checks the names (and a new spec) before any schedule entity starts, then passes the request to the <see cref="Scheduling.ScheduleGate"/> (which logs changes with who asked).</summary>
    private void HandleSchedule(IScheduleRequest request)
    {
        var refusal = Scheduling.ScheduleRules.CheckName(request.Name, request.Namespace)
                      ?? (request is PutSchedule put
                          ? Scheduling.ScheduleRules.CheckSpec(put.Spec,
                              put.Spec is { Queue: { } queue } ? _server.Policies.For(NamespaceName.OrDefault(put.Namespace), queue) : _server.Policies.Defaults,
                              DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
                          : null);
        if (refusal is not null || _schedules is null)
        {
            Sender.Tell(refusal ?? new Rejected(ErrorCode.Unavailable, "this node runs no schedules"));
            return;
        }
        _scheduleGate!.Forward(request);
    }

    /// <summary>The schedules of a namespace (<see cref="Scheduling.ScheduleDirectory"/>), each asked for its state.</summary>
    private async Task<ScheduleList> Schedules(ListSchedules list)
    {
        var ns = NamespaceName.OrDefault(list.Namespace);
        if (!NamespaceName.IsValid(ns) || _schedules is null) return new ScheduleList([], [], false);
        var (names, unanswered) = await Scheduling.ScheduleDirectory.Names(_system, PartitionHosts().ToList(), ns, _options.FanOutTimeout);
        var asked = names.Take(ScheduleList.MaxSchedules).ToList();
        var (schedules, timeout) = (_schedules, _options.FanOutTimeout);
        var infos = await Task.WhenAll(asked.Select(name => Scheduling.ScheduleDirectory.State(schedules, name, ns, timeout)));
        for (var i = 0; i < asked.Count; i++)
            if (infos[i] is null or Rejected { Code: not ErrorCode.ScheduleNotFound }) unanswered.Add($"{ns}/{asked[i]}");
        return new ScheduleList(infos.OfType<ScheduleInfo>().ToArray(), unanswered.ToArray(), names.Count > asked.Count);
    }

    private void HandleMembership(ChangeMembership change)
    {
        Address address;
        try
        {
            address = Address.Parse(change.Address);
        }
        catch (Exception)
        {
            Sender.Tell(new Rejected(ErrorCode.InvalidArgument,
                $"'{SafeText.Escape(change.Address, 300)}' is not a node address: use akka.tcp://{NodeSettings.SystemName}@host:{NodeSettings.DefaultClusterPort} (the cluster port)"));
            return;
        }
        var state = _cluster.State;
        var isMember = state.Members.Any(m => m.Address.Equals(address)) || state.Unreachable.Any(m => m.Address.Equals(address));
        switch (change.Action)
        {
            case MembershipAction.Leave or MembershipAction.Down when !isMember:
                Sender.Tell(new Rejected(ErrorCode.InvalidArgument,
                    $"{address} is not a member of this cluster (members: {string.Join(", ", state.Members.Select(m => m.Address))})"));
                return;
            case MembershipAction.Leave:
                _log.Warning("Operator {Requester} asked member {Member} to {Action} the cluster", SafeText.Escape(change.By?.ToString(), 300), address.ToString(), "leave");
                _cluster.Leave(address);
                break;
            case MembershipAction.Down:
                _log.Warning("Operator {Requester} marked member {Member} {Action}", SafeText.Escape(change.By?.ToString(), 300), address.ToString(), "down");
                _cluster.Down(address);
                break;
            case MembershipAction.Join when ClusterStateReader.HasJoined(_cluster):
                Sender.Tell(new Rejected(ErrorCode.InvalidArgument,
                    $"{_cluster.SelfAddress} is already a member of a cluster (leader {state.Leader?.ToString() ?? "none"}); " +
                    "a node joins once: stop it and start it with --seed, or ask a node that has not joined yet"));
                return;
            case MembershipAction.Join:
                _log.Info("Operator {Requester} asked this node to {Action} {Member}", SafeText.Escape(change.By?.ToString(), 300), "join", address.ToString());
                _cluster.Join(address);
                break;
            default:
                Sender.Tell(new Rejected(ErrorCode.InvalidArgument, $"unknown membership action {change.Action}"));
                return;
        }
        Sender.Tell(new MembershipChangeStarted(change.Action, address.ToString()));
    }

    /// <summary>Logs the destructive and state-changing ones, then routes the request by its own namespace and queue.</summary>
    private void HandleOperatorRequest(OperatorRequest op)
    {
        if (op.Request is null)
        {
            Sender.Tell(new Rejected(ErrorCode.InvalidArgument, "an operator request without a request"));
            return;
        }
        OperatorAudit.Log(_log, op.By, op.Request);
        _frontend.Forward(op.Request);
    }

    /// <summary>
    /// A failed answer goes back as <see cref="Rejected"/>, never as PipeTo's default Status.Failure: Conduit systems
    /// refuse Status.Failure from the wire (GuardedMiscMessageSerializer), so the CLI would only see a timeout.
    /// </summary>
    private static Func<Exception, object> Unavailable(string what) => ex =>
        new Rejected(ErrorCode.Unavailable, $"{what}: {SafeText.Escape((ex as AggregateException)?.InnerException?.Message ?? ex.Message)}");

    private async Task<ShardingStats> ShardingStats()
    {
        var timeout = _options.FanOutTimeout;
        var stats = await _region.Ask<ClusterShardingStats>(new GetClusterShardingStats(timeout), timeout + TimeSpan.FromSeconds(1));
        var regions = stats.Regions
            .OrderBy(r => r.Key, Member.AddressOrdering)
            .Select(r => new RegionShards(r.Key.ToString(), ConduitHostingExtensions.PartitionsTypeName,
                r.Value.Stats.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new ShardEntities(s.Key, s.Value)).ToArray()))
            .ToArray();
        var unanswered = PartitionHosts().Where(a => !stats.Regions.ContainsKey(a)).Select(a => a.ToString()).ToArray();
        return new ShardingStats(regions, unanswered);
    }

    private async Task<LocalPartitions> LocalPartitions()
    {
        var self = _cluster.SelfAddress.ToString();
        if (!_hostsPartitions) return new LocalPartitions(self, []);
        var (ids, truncated) = await LocalEntities(_region);
        return new LocalPartitions(self, ids, truncated);
    }

    /// <summary>The schedule entities this node runs now (a node without the task-service role has only a proxy: none).</summary>
    private async Task<LocalSchedules> LocalSchedules()
    {
        var self = _cluster.SelfAddress.ToString();
        if (!_hostsPartitions || _schedules is null) return new LocalSchedules(self, []);
        var (ids, truncated) = await LocalEntities(_schedules);
        return new LocalSchedules(self, ids, truncated);
    }

    private async Task<(string[] Ids, bool Truncated)> LocalEntities(IActorRef region)
    {
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, _options.FanOutTimeout);
        var ids = new List<string>();
        long bytes = 0;
        foreach (var id in state.Shards.SelectMany(s => s.EntityIds).OrderBy(e => e, StringComparer.Ordinal))
        {
            // A node may run 100,000 partitions: the reply stays within one frame.
            bytes += 8 + 3L * id.Length;
            if (bytes > WireLimits.MaxReplyBytes) return (ids.ToArray(), true);
            ids.Add(id);
        }
        return (ids.ToArray(), false);
    }

    private async Task<QueueList> QueueList()
    {
        var timeout = _options.FanOutTimeout;
        var unanswered = new List<string>();
        var hosts = PartitionHosts().ToList();
        var answers = await Task.WhenAll(hosts.Select(async address =>
        {
            try
            {
                var management = Context.System.ActorSelection(new RootActorPath(address) / "user" / Name);
                return await management.Ask<LocalPartitions>(new GetLocalPartitions(), timeout);
            }
            catch (Exception)
            {
                return null;
            }
        }));
        for (var i = 0; i < hosts.Count; i++)
            if (answers[i] is null) unanswered.Add(hosts[i].ToString());

        // Every namespace's queues, by namespace then name; each asked in its own namespace.
        var running = answers.Where(a => a is not null).SelectMany(a => a!.EntityIds)
            .Select(e => PartitionId.TryParse(e, out var id) ? id : default)
            .Where(id => id.Queue is not null)
            .Select(id => (id.Namespace, id.Queue)).Distinct()
            .OrderBy(q => q.Namespace, StringComparer.Ordinal).ThenBy(q => q.Queue, StringComparer.Ordinal).ToList();
        var queues = running.Take(Protocol.QueueList.MaxQueues).ToList();
        var more = running.Count > queues.Count || answers.Any(a => a is { Truncated: true });
        var stats = await Task.WhenAll(queues.Select(async q =>
        {
            try
            {
                return await _frontend.Ask<object>(new GetQueueStats(q.Queue, q.Namespace), timeout) as QueueStats;
            }
            catch (Exception)
            {
                return null;
            }
        }));
        for (var i = 0; i < queues.Count; i++)
            if (stats[i] is null) unanswered.Add($"{queues[i].Namespace}/{queues[i].Queue}");
        return new QueueList(stats.Where(s => s is not null).ToArray()!, unanswered.ToArray(), more);
    }

    /// <summary>Members that host partitions: Up (or WeaklyUp) with the task-service role.</summary>
    private IEnumerable<Address> PartitionHosts() =>
        _cluster.State.Members
            .Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp && m.HasRole(ConduitServerOptions.TaskServiceRole))
            .Select(m => m.Address);
}
