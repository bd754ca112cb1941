using System.Reflection;
using Conduit.Protocol;
using MemoryPack;

namespace Conduit.Testing;

/// <summary>
/// One sample of every <see cref="IClientRequest"/> type, for tests that must cover them all (wire round trips, the
/// permission table). The list of types is read from the union's attributes, so a new request type added to
/// <see cref="IClientRequest"/> without a sample here fails <see cref="Samples"/> at once.
/// </summary>
public static class ClientRequests
{
    /// <summary>Every member type of the <see cref="IClientRequest"/> union, by reflection over its attributes.</summary>
    public static IReadOnlyList<Type> UnionTypes { get; } =
        [.. typeof(IClientRequest).GetCustomAttributes<MemoryPackUnionAttribute>().Select(a => a.Type)];

    /// <summary>Task id of a task in <paramref name="ns"/> (queue <c>q</c>, partition 0).</summary>
    public static string TaskIdIn(string ns) => $"{ns}/q#0:17";

    /// <summary>Text of a (never issued) lease token of a task in <paramref name="ns"/>.</summary>
    public static string LeaseIn(string ns) => $"{TaskIdIn(ns)}:1:2:99:abcdef";

    /// <summary>
    /// One request of each union type, all in namespace <paramref name="ns"/>: requests that carry a task id or lease token
    /// name a task there; requests that name a queue use queue <c>q</c> there.
    /// </summary>
    public static IReadOnlyDictionary<Type, IClientRequest> Samples(string ns = PartitionId.DefaultNamespace)
    {
        var spec = new TaskSpec([1, 2, 3], new Dictionary<string, string> { ["h"] = "v" }, 7, 0, null, "idem", 3, "customer-1");
        var by = new Requester("ops", "box");
        IClientRequest[] all =
        [
            new Enqueue("q", spec, ns),
            new EnqueueBatch("q", [spec, spec with { Priority = 1 }], ns),
            new Poll("q", 10, 5000, 30000, 7, ns, "host-1:42"),
            new Heartbeat(LeaseIn(ns)),
            new Complete(LeaseIn(ns), [LeaseIn(ns)]),
            new Fail(LeaseIn(ns), "why", false, 5_000),
            new CancelTask(TaskIdIn(ns)),
            new GetTask(TaskIdIn(ns)),
            new GetQueueStats("q", ns),
            new PauseQueue("q", ns),
            new ResumeQueue("q", ns),
            new PurgeQueue("q", ns),
            new ListDeadLetters("q", 5, 10, TaskIdIn(ns), ns),
            new RequeueDeadLetters("q", [TaskIdIn(ns)], ns),
            new CancelPoll("q", 7, ns),
            new ReleaseTasks([LeaseIn(ns)]),
            new SetQueueLimits("q", new QueueLimits(12.5, 30, 4, 1), ns),
            new ListTasks("q", Conduit.Protocol.TaskStatus.Running, 50, TaskIdIn(ns), ns),
            new GetClusterState(),
            new ChangeMembership(MembershipAction.Down, "akka.tcp://conduit@h:2", by),
            new GetShardingStats(),
            new GetLocalPartitions(),
            new GetLocalSchedules(),
            new ListQueues(),
            new OperatorRequest(new PurgeQueue("q", ns), by),
            new PutSchedule("s", new ScheduleSpec("q", spec with { IdempotencyKey = null }, Cron: "0 9 * * *", TimeZone: "Europe/Berlin",
                JitterMs: 100, Overlap: OverlapPolicy.Skip, MissedRuns: MissedRunPolicy.Skip), ns, by),
            new GetSchedule("s", ns),
            new PauseSchedule("s", ns, by),
            new ResumeSchedule("s", ns, by),
            new DeleteSchedule("s", ns, by),
            new TriggerSchedule("s", ns, by),
            new ListSchedules(ns),
        ];
        var samples = all.ToDictionary(r => r.GetType());
        var missing = UnionTypes.Where(t => !samples.ContainsKey(t)).Select(t => t.Name).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"ClientRequests.Samples has no sample of {string.Join(", ", missing)}: add one");
        return samples;
    }
}
