using Akka.Actor;
using Akka.DistributedData;
using Conduit.Server.Gossip;
using Conduit.Server.Matching;

namespace Conduit.Server.Frontend;

/// <summary>
/// Receives client requests, checks what can be checked without a partition, and routes each to its partition
/// through the shard region: by lease token or task id when the request names one, by idempotency key when the
/// enqueue has one; otherwise by the partitions' gossiped load (an enqueue to the better of two partitions drawn at
/// random, <see cref="LoadView.ForEnqueue"/>; a poll through a <see cref="PollRouter"/>). Queue-wide requests go to
/// every partition and the answers are merged. A queue is named by its namespace and its name (<see cref="QueueOf"/>): every partition id it builds
/// carries the request's namespace, so queues of the same name in two namespaces never share a partition.
/// </summary>
public sealed class QueueFrontend : ReceiveActor
{
    private static readonly TimeSpan FanOutTimeout = TimeSpan.FromSeconds(15);

    private readonly IActorRef _region;
    private readonly QueueTopology _topology;
    private readonly long _pollProbeMs;
    /// <summary>Each queue's limits (its payload cap may be its own), checked before a request is routed.</summary>
    private readonly QueuePolicies _policies;
    private readonly LoadView _loads = new();

    public QueueFrontend(IActorRef region, QueueTopology topology, long pollProbeMs = 200, QueuePolicies? policies = null)
    {
        _policies = policies ?? new QueuePolicies(new PartitionOptions());
        _region = region;
        _topology = topology;
        _pollProbeMs = pollProbeMs;
        Receive<IPartitionRequest>(Route);
        Receive<Changed>(changed => _loads.Update(changed.Get(LoadPublisher.Key).Entries.Values));
    }

    public static Props Props(IActorRef region, QueueTopology topology, long pollProbeMs = 200, QueuePolicies? policies = null) =>
        Akka.Actor.Props.Create(() => new QueueFrontend(region, topology, pollProbeMs, policies));

    protected override void PreStart()
    {
        if (_topology.AnyMultiPartition) DistributedData.Get(Context.System).Replicator.Tell(Dsl.Subscribe(LoadPublisher.Key, Self));
    }

    private void Route(IPartitionRequest request)
    {
        switch (request)
        {
            case Heartbeat { LeaseToken: var t }: ToLeaseOwner(t, request); break;
            case Complete { MoreLeaseTokens.Length: var n } when TaskSpecRules.CheckIdCount(n + 1, "lease tokens") is { } tooMany: Sender.Tell(tooMany); break;
            case Complete { LeaseToken: var t }: ToLeaseOwner(t, request); break;
            case Fail { LeaseToken: var t }: ToLeaseOwner(t, request); break;
            case CancelTask { TaskId: var id }: ToTaskOwner(id, request); break;
            case GetTask { TaskId: var id }: ToTaskOwner(id, request); break;
            case ReleaseTasks { LeaseTokens.Length: var n } when TaskSpecRules.CheckIdCount(n, "lease tokens") is { } tooMany: Sender.Tell(tooMany); break;
            case ReleaseTasks { LeaseTokens: [var first, ..] }: ToLeaseOwner(first, request); break;
            case ReleaseTasks: Sender.Tell(new Released(0)); break;
            default:
                var (ns, queue) = QueueOf(request);
                if (!QueueName.IsValid(queue))
                {
                    Sender.Tell(new Rejected(ErrorCode.InvalidQueueName, QueueName.Describe(SafeText.Escape(queue, 140))));
                    return;
                }
                if (!NamespaceName.IsValid(ns))
                {
                    Sender.Tell(new Rejected(ErrorCode.InvalidNamespace, NamespaceName.Describe(SafeText.Escape(ns, 140))));
                    return;
                }
                RouteQueueRequest(ns, queue, request);
                break;
        }
    }

    private void RouteQueueRequest(string ns, string queue, IPartitionRequest request)
    {
        var partitions = _topology.PartitionsOf(ns, queue);
        switch (request)
        {
            // Clients' enqueues may not pose as a schedule's runs (schedules enqueue past the frontend, straight to the partition).
            case Enqueue e when Scheduling.ScheduleRules.CheckNotReserved(e.Task) is { } reserved:
                Sender.Tell(reserved);
                break;
            case EnqueueBatch b when b.Tasks?.Select(Scheduling.ScheduleRules.CheckNotReserved).FirstOrDefault(r => r is not null) is { } reserved:
                Sender.Tell(reserved);
                break;
            case Enqueue e:
                Forward(ns, queue, KeyRouting.PartitionOf(e.Task, partitions) ?? _loads.ForEnqueue(ns, queue, partitions), e);
                break;
            case EnqueueBatch b when TaskSpecRules.CheckBatch(b.Tasks, _policies.For(ns, queue)) is { } invalid:
                Sender.Tell(invalid);
                break;
            case EnqueueBatch b when partitions == 1:
                Forward(ns, queue, 0, b);
                break;
            case EnqueueBatch b:
                SplitBatch(ns, queue, b, partitions);
                break;
            case Poll p when TaskSpecRules.CheckPoll(p, _policies.For(ns, queue)) is { } invalid:
                Sender.Tell(invalid);
                break;
            case Poll p when partitions == 1:
                Forward(ns, queue, 0, p);
                break;
            case Poll p:
                Context.ActorOf(PollRouter.Props(_region, Sender, p with { Namespace = ns }, partitions, _loads.BusiestFirst(ns, queue, partitions), _pollProbeMs));
                break;
            case RequeueDeadLetters { TaskIds: { } ids } when TaskSpecRules.CheckIdCount(ids.Length, "task ids") is { } tooMany:
                Sender.Tell(tooMany);
                break;
            case RequeueDeadLetters { TaskIds: { } ids } r:
                var groups = new Dictionary<int, List<string>>();
                foreach (var id in ids)
                {
                    if (!TaskId.TryParse(id, out var taskId) || taskId.Partition.Queue != queue || taskId.Partition.Namespace != ns
                        || !_topology.Contains(taskId.Partition))
                    {
                        Sender.Tell(new Rejected(ErrorCode.TaskNotFound, $"'{SafeText.Escape(id)}' is not a task id of queue {queue} in namespace {ns}"));
                        return;
                    }
                    (groups.TryGetValue(taskId.Partition.Index, out var list) ? list : groups[taskId.Partition.Index] = []).Add(id);
                }
                FanOut(ns, queue, groups.ToDictionary(g => g.Key, g => (IPartitionRequest)(r with { TaskIds = g.Value.ToArray() })), Merge);
                break;
            case CancelPoll c:
                // Nobody waits for an answer: tell every partition, no asks.
                for (var p = 0; p < partitions; p++) _region.Tell(new PartitionEnvelope(new PartitionId(ns, queue, p).EntityId, c));
                break;
            case SetQueueLimits l when TaskSpecRules.CheckLimits(l.Limits, partitions) is { } invalid:
                Sender.Tell(invalid);
                break;
            case ListDeadLetters l when TaskSpecRules.CheckDeadLetterLimit(l) is { } invalid:
                Sender.Tell(invalid);
                break;
            case ListDeadLetters l:
                FanOut(ns, queue, Enumerable.Range(0, partitions).ToDictionary(i => i, _ => request), replies => DeadLetterPage.Merge(l, replies.Select(r => (DeadLetters)r.Item2).ToList()));
                break;
            case ListTasks l:
                ListTasks(ns, queue, l with { Namespace = ns }, partitions);
                break;
            default:
                FanOut(ns, queue, Enumerable.Range(0, partitions).ToDictionary(i => i, _ => request), Merge);
                break;
        }
    }

    /// <summary>
    /// Settled states from the task history (one partition asks its node's); live ones from every partition from the
    /// cursor's on, merged in task id order (<see cref="TaskListing.Merge"/>).
    /// </summary>
    private void ListTasks(string ns, string queue, ListTasks list, int partitions)
    {
        if (TaskListing.Check(list, out var cursor) is { } invalid) { Sender.Tell(invalid); return; }
        if (Protocol.ListTasks.IsSettled(list.State)) { Forward(ns, queue, 0, list); return; }
        var from = cursor?.Task.Partition.Index ?? 0;
        if (from >= partitions) { Sender.Tell(new TaskList(queue, list.State, [], null, ns)); return; }
        FanOut(ns, queue, Enumerable.Range(from, partitions - from).ToDictionary(i => i, _ => (IPartitionRequest)list),
            replies => TaskListing.Merge(list, replies.Select(r => (r.Item1, (TaskList)r.Item2)).ToList()));
    }

    private void SplitBatch(string ns, string queue, EnqueueBatch batch, int partitions)
    {
        var tasks = batch.Tasks ?? [];
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var options = _policies.For(ns, queue);
        foreach (var spec in tasks)
        {
            if (TaskSpecRules.Check(spec, options, now) is not { } refusal) continue;
            Sender.Tell(refusal);
            return;
        }
        var fallback = _loads.ForEnqueue(ns, queue, partitions);
        var byPartition = new Dictionary<int, List<int>>();
        for (var i = 0; i < tasks.Length; i++)
        {
            var p = KeyRouting.PartitionOf(tasks[i], partitions) ?? fallback;
            (byPartition.TryGetValue(p, out var list) ? list : byPartition[p] = []).Add(i);
        }
        if (byPartition.Count <= 1)
        {
            Forward(ns, queue, byPartition.Keys.FirstOrDefault(fallback), batch);
            return;
        }
        // Each partition commits its part on its own, so the answer says task by task what happened: a part that was
        // refused (or did not answer) must not make the caller believe the parts that committed did not.
        var asks = byPartition.Select(async g =>
        {
            var part = new EnqueueBatch(queue, g.Value.Select(i => tasks[i]).ToArray(), ns);
            try
            {
                return (Indexes: g.Value, Reply: await _region.Ask<object>(new PartitionEnvelope(new PartitionId(ns, queue, g.Key).EntityId, part), FanOutTimeout));
            }
            catch (Exception) // a timeout, or the region gone: the part's fate is unknown either way
            {
                return (Indexes: g.Value, Reply: (object)new Rejected(ErrorCode.Unavailable,
                    $"partition {g.Key} of queue {ns}/{queue} did not answer in time: its tasks may or may not be enqueued; retry with the same idempotency keys to learn which"));
            }
        });
        Task.WhenAll(asks).PipeTo(Sender, success: parts => MergeBatch(tasks.Length, parts));
    }

    /// <summary>All parts enqueued: <see cref="EnqueuedBatch"/>; all refused: one refusal for all (see below); otherwise <see cref="BatchPartlyEnqueued"/>.</summary>
    internal static object MergeBatch(int count, IReadOnlyList<(List<int> Indexes, object Reply)> parts)
    {
        // Every part refused: one refusal stands for all. Unavailable (a part whose fate is unknown) wins over the others,
        // and Overloaded (which promises nothing changed and invites a resend) is chosen only when every part said so.
        if (parts.All(p => p.Reply is not EnqueuedBatch))
        {
            var refused = parts.Select(p => p.Reply as Rejected ?? new Rejected(ErrorCode.Unavailable, $"unexpected answer {p.Reply.GetType().Name}")).ToList();
            return refused.FirstOrDefault(r => r.Code == ErrorCode.Unavailable)
                   ?? refused.FirstOrDefault(r => r.Code != ErrorCode.Overloaded)
                   ?? refused[0];
        }
        var results = new Enqueued?[count];
        var refusals = new Rejected?[count];
        foreach (var (indexes, reply) in parts)
        {
            for (var j = 0; j < indexes.Count; j++)
            {
                if (reply is EnqueuedBatch { Results: var done } && j < done.Length) results[indexes[j]] = done[j];
                else refusals[indexes[j]] = reply as Rejected ?? new Rejected(ErrorCode.Unavailable, $"unexpected answer {reply.GetType().Name}");
            }
        }
        return refusals.All(r => r is null) ? new EnqueuedBatch(results!) : new BatchPartlyEnqueued(results, refusals);
    }

    private void FanOut(string ns, string queue, Dictionary<int, IPartitionRequest> requests, Func<List<(int, object)>, object> merge)
    {
        if (requests.Count == 1)
        {
            var (p, only) = requests.First();
            Forward(ns, queue, p, only);
            return;
        }
        var asks = requests.Select(async kv =>
            (kv.Key, await _region.Ask<object>(new PartitionEnvelope(new PartitionId(ns, queue, kv.Key).EntityId, kv.Value), FanOutTimeout)));
        Task.WhenAll(asks).PipeTo(Sender,
            success: replies => replies.FirstOrDefault(r => r.Item2 is Rejected).Item2 ?? merge(replies.ToList()),
            failure: ex => new Rejected(ErrorCode.Unavailable, $"queue {ns}/{queue}: a partition did not answer ({ex.Message})"));
    }

    private object Merge(List<(int, object)> replies)
    {
        var answers = replies.OrderBy(r => r.Item1).Select(r => r.Item2).ToList();
        return answers[0] switch
        {
            QueueStats s => new QueueStats(s.Queue,
                answers.Cast<QueueStats>().Sum(x => x.Ready), answers.Cast<QueueStats>().Sum(x => x.Delayed),
                answers.Cast<QueueStats>().Sum(x => x.Running), answers.Cast<QueueStats>().Sum(x => x.DeadLettered),
                answers.Cast<QueueStats>().Max(x => x.OldestReadyAgeMs), answers.Cast<QueueStats>().Sum(x => x.WaitingPollers),
                answers.Cast<QueueStats>().All(x => x.Paused), answers.Count, s.Namespace,
                answers.Cast<QueueStats>().Select(x => x.Limits).FirstOrDefault(l => l is not null)),
            QueuePurged p => p with { Purged = answers.Cast<QueuePurged>().Sum(x => x.Purged) },
            DeadLettersRequeued d => d with { Count = answers.Cast<DeadLettersRequeued>().Sum(x => x.Count) },
            var first => first,
        };
    }

    /// <summary>Only ids that name a partition of the topology reach the shard region: anything else never starts an entity.</summary>
    private void ToLeaseOwner(string? token, IPartitionRequest request)
    {
        if (LeaseToken.TryParse(token, out var lease) && _topology.Contains(lease.Task.Partition))
            _region.Forward(new PartitionEnvelope(lease.Task.Partition.EntityId, request));
        else Sender.Tell(new Rejected(ErrorCode.UnknownLease, $"'{SafeText.Escape(token, 300)}' is not a lease token of this cluster"));
    }

    private void ToTaskOwner(string? id, IPartitionRequest request)
    {
        if (TaskId.TryParse(id, out var task) && _topology.Contains(task.Partition))
            _region.Forward(new PartitionEnvelope(task.Partition.EntityId, request));
        else Sender.Tell(new Rejected(ErrorCode.TaskNotFound, $"'{SafeText.Escape(id)}' is not a task id of this cluster"));
    }

    private void Forward(string ns, string queue, int partition, IPartitionRequest request) =>
        _region.Forward(new PartitionEnvelope(new PartitionId(ns, queue, partition).EntityId, request));

    /// <summary>The namespace and queue a request names (<see cref="QueueAddress"/>); for one that names none, the default namespace and no queue (refused as an invalid queue name).</summary>
    internal static (string Namespace, string? Queue) QueueOf(IPartitionRequest request) =>
        QueueAddress.Of(request) ?? (PartitionId.DefaultNamespace, null);
}
