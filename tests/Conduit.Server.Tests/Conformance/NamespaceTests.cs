using System.Text;
using Akka.Actor;
using Conduit.Protocol;
using Conduit.Server.Frontend;
using Conduit.Server.Hosting;
using Conduit.Server.Management;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Conformance;

/// <summary>
/// Queues of the same name in two namespaces, through a real node (frontend, sharding, partitions, storage): they share
/// nothing. Queues have two partitions by default, so load-based routing and fan-out are exercised too.
/// </summary>
public sealed class NamespaceTests : IAsyncLifetime
{
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(new NodeSettings
    {
        Port = 0,
        Storage = TestStores.NewSqlite(),
        Server = new ConduitServerOptions
        {
            Partition = TestNode.FastPartitionOptions, PartitionsPerQueue = 2,
            QueuePartitions = new Dictionary<string, int> { ["one"] = 1, ["billing/one"] = 3 },
        },
    });

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private static string NewQueue() => "q-" + Guid.NewGuid().ToString("N")[..12];
    private static string NewNamespace() => "ns-" + Guid.NewGuid().ToString("N")[..8];
    private static TaskSpec Spec(string text, int maxAttempts = 0) => new(Encoding.UTF8.GetBytes(text), MaxAttempts: maxAttempts);
    private static string Text(LeasedTask t) => Encoding.UTF8.GetString(t.Payload);

    private Task<QueueStats> Stats(string ns, string q) => _node.Ask<QueueStats>(new GetQueueStats(q, ns));

    private async Task<LeasedTask[]> Poll(string ns, string q, int max = 10, long waitMs = 1_000) =>
        (await _node.Ask<Polled>(new Poll(q, max, waitMs, Namespace: ns), TimeSpan.FromMilliseconds(waitMs) + _node.AskTimeout)).Tasks;

    [Fact(DisplayName = "queues of the same name in two namespaces are independent: enqueue, poll and stats see only their own namespace")]
    public async Task EnqueuePollStats()
    {
        var (a, b, q) = (NewNamespace(), NewNamespace(), NewQueue());
        var inA = await _node.Ask<EnqueuedBatch>(new EnqueueBatch(q, [Spec("a1"), Spec("a2")], a));
        var inB = await _node.Ask<Enqueued>(new Enqueue(q, Spec("b1"), b));
        Assert.All(inA.Results, r => Assert.StartsWith($"{a}/{q}#", r.TaskId));
        Assert.StartsWith($"{b}/{q}#", inB.TaskId);

        var (statsA, statsB, statsDefault) = (await Stats(a, q), await Stats(b, q), await Stats(PartitionId.DefaultNamespace, q));
        Assert.Equal((a, q, 2L, 2), (statsA.Namespace, statsA.Queue, statsA.Ready, statsA.Partitions));
        Assert.Equal((b, q, 1L), (statsB.Namespace, statsB.Queue, statsB.Ready));
        Assert.Equal((PartitionId.DefaultNamespace, 0L), (statsDefault.Namespace, statsDefault.Ready));

        Assert.Equal(["b1"], (await Poll(b, q)).Select(Text));
        Assert.Empty(await Poll(b, q, waitMs: 300));
        Assert.Equal(2L, (await Stats(a, q)).Ready);
        Assert.Equal(["a1", "a2"], (await Poll(a, q)).Select(Text).Order());
        Assert.Empty(await Poll(PartitionId.DefaultNamespace, q, waitMs: 300));
    }

    [Fact(DisplayName = "pausing or purging a queue in one namespace leaves the queue of the same name in another untouched")]
    public async Task PausePurge()
    {
        var (a, b, q) = (NewNamespace(), NewNamespace(), NewQueue());
        await _node.Ask<EnqueuedBatch>(new EnqueueBatch(q, [Spec("a1"), Spec("a2")], a));
        await _node.Ask<EnqueuedBatch>(new EnqueueBatch(q, [Spec("b1"), Spec("b2"), Spec("b3")], b));

        var paused = await _node.Ask<QueueStateChanged>(new PauseQueue(q, a));
        Assert.Equal((a, true), (paused.Namespace, paused.Paused));
        Assert.True((await Stats(a, q)).Paused);
        Assert.False((await Stats(b, q)).Paused);
        Assert.Empty(await Poll(a, q, waitMs: 300));
        Assert.Equal("b", Text(Assert.Single(await Poll(b, q, max: 1)))[..1]);

        var purged = await _node.Ask<QueuePurged>(new PurgeQueue(q, a));
        Assert.Equal((a, 2L), (purged.Namespace, purged.Purged));
        Assert.Equal(0L, (await Stats(a, q)).Ready);
        Assert.Equal((2L, 1L), ((await Stats(b, q)).Ready, (await Stats(b, q)).Running));
    }

    [Fact(DisplayName = "dead letters are listed and requeued per namespace; an id of another namespace is not one of the queue's")]
    public async Task DeadLetters()
    {
        var (a, b, q) = (NewNamespace(), NewNamespace(), NewQueue());
        var idA = (await _node.Ask<Enqueued>(new Enqueue(q, Spec("a", maxAttempts: 1), a))).TaskId;
        var idB = (await _node.Ask<Enqueued>(new Enqueue(q, Spec("b", maxAttempts: 1), b))).TaskId;
        foreach (var ns in new[] { a, b })
        {
            var task = Assert.Single(await Poll(ns, q));
            Assert.Equal(TaskStatus.DeadLettered, (await _node.Ask<Failed>(new Fail(task.LeaseToken, "boom", Retryable: false))).Next);
        }

        var listA = await _node.Ask<DeadLetters>(new ListDeadLetters(q, Namespace: a));
        Assert.Equal((a, idA), (listA.Namespace, Assert.Single(listA.Items).TaskId));
        Assert.Equal(idB, Assert.Single((await _node.Ask<DeadLetters>(new ListDeadLetters(q, Namespace: b))).Items).TaskId);
        Assert.Empty((await _node.Ask<DeadLetters>(new ListDeadLetters(q))).Items);

        Assert.Equal(ErrorCode.TaskNotFound, await _node.Refusal(new RequeueDeadLetters(q, [idB], a)));
        var requeued = await _node.Ask<DeadLettersRequeued>(new RequeueDeadLetters(q, Namespace: a));
        Assert.Equal((a, 1L), (requeued.Namespace, requeued.Count));
        Assert.Equal((1L, 0L), ((await Stats(a, q)).Ready, (await Stats(a, q)).DeadLettered));
        Assert.Equal((0L, 1L), ((await Stats(b, q)).Ready, (await Stats(b, q)).DeadLettered));
        Assert.Equal(1L, (await _node.Ask<DeadLettersRequeued>(new RequeueDeadLetters(q, [idB], b))).Count);
    }

    [Fact(DisplayName = "a task id or lease token of namespace A is routed to A, never to the queue of the same name elsewhere")]
    public async Task IdsCarryTheirNamespace()
    {
        var (a, b, q) = (NewNamespace(), NewNamespace(), NewQueue());
        var idA = (await _node.Ask<Enqueued>(new Enqueue(q, Spec("a"), a))).TaskId;
        var idB = (await _node.Ask<Enqueued>(new Enqueue(q, Spec("b"), b))).TaskId;
        var info = await _node.Ask<TaskInfo>(new GetTask(idA));
        Assert.Equal((a, q, TaskStatus.Ready), (info.Namespace, info.Queue, info.Status));

        var leaseA = Assert.Single(await Poll(a, q)).LeaseToken;
        var leaseB = Assert.Single(await Poll(b, q)).LeaseToken;
        Assert.StartsWith($"{a}/{q}#", leaseA);
        await _node.Ask<HeartbeatAck>(new Heartbeat(leaseB));
        await _node.Ask<Completed>(new Complete(leaseA));
        Assert.Equal(TaskStatus.Completed, (await _node.Ask<TaskInfo>(new GetTask(idA))).Status);
        Assert.Equal(TaskStatus.Running, (await _node.Ask<TaskInfo>(new GetTask(idB))).Status);
        await _node.Ask<Cancelled>(new CancelTask(idB));
        Assert.Equal((0L, 0L), ((await Stats(a, q)).Running, (await Stats(a, q)).Ready));
        Assert.Equal(TaskStatus.Cancelled, (await _node.Ask<TaskInfo>(new GetTask(idB))).Status);
    }

    [Theory(DisplayName = "a request naming a bad namespace is refused with InvalidNamespace and changes nothing")]
    [InlineData("Billing")]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("ns\n")]
    [InlineData("-ns")]
    public async Task BadNamespace(string ns)
    {
        var q = NewQueue();
        var before = await _node.HostedPartitions();
        IPartitionRequest[] requests =
        [
            new Enqueue(q, Spec("x"), ns), new EnqueueBatch(q, [Spec("x")], ns), new Poll(q, 1, 0, Namespace: ns),
            new GetQueueStats(q, ns), new PauseQueue(q, ns), new ResumeQueue(q, ns), new PurgeQueue(q, ns),
            new ListDeadLetters(q, Namespace: ns), new RequeueDeadLetters(q, null, ns),
        ];
        foreach (var request in requests) Assert.Equal(ErrorCode.InvalidNamespace, await _node.Refusal(request));
        Assert.Equal(before.Order(), (await _node.HostedPartitions()).Order());
    }

    [Fact(DisplayName = "a request from a client before namespaces (no namespace on the wire: null) means the default namespace")]
    public async Task NullMeansDefault()
    {
        var q = NewQueue();
        var id = (await _node.Ask<Enqueued>(new Enqueue(q, Spec("x"), null!))).TaskId;
        Assert.StartsWith($"{PartitionId.DefaultNamespace}/{q}#", id);
        Assert.Equal(1L, (await _node.Ask<QueueStats>(new GetQueueStats(q, null!))).Ready);
        Assert.Equal(1L, (await _node.Ask<QueueStats>(new GetQueueStats(q))).Ready);
    }

    [Fact(DisplayName = "a per-queue partition count given as q applies in every namespace, one given as ns/q in that namespace only")]
    public async Task PerQueuePartitions()
    {
        var a = NewNamespace();
        Assert.Equal(1, (await Stats(a, "one")).Partitions);
        Assert.Equal(1, (await Stats(PartitionId.DefaultNamespace, "one")).Partitions);
        Assert.Equal(3, (await Stats("billing", "one")).Partitions);
        Assert.Equal(2, (await Stats("billing", NewQueue())).Partitions);
    }

    [Fact(DisplayName = "the queue list names each namespace's queue separately, with its own stats")]
    public async Task QueueListByNamespace()
    {
        var (a, b, q) = (NewNamespace(), NewNamespace(), NewQueue());
        await _node.Ask<Enqueued>(new Enqueue(q, Spec("a"), a));
        await _node.Ask<EnqueuedBatch>(new EnqueueBatch(q, [Spec("b1"), Spec("b2")], b));
        var management = _node.System.ActorSelection("/user/" + ManagementActor.Name);
        await Eventually.Holds(async () =>
        {
            var list = await management.Ask<QueueList>(new ListQueues(), TimeSpan.FromSeconds(20));
            var mine = list.Queues.Where(s => s.Queue == q).OrderBy(s => s.Namespace, StringComparer.Ordinal).ToList();
            Assert.Equal(new[] { (a, 1L), (b, 2L) }.OrderBy(x => x.Item1, StringComparer.Ordinal), mine.Select(s => (s.Namespace, s.Ready)));
        });
    }

    [Fact(DisplayName = "an operator request goes to the queue of its own namespace")]
    public async Task OperatorRequestByNamespace()
    {
        var (a, q) = (NewNamespace(), NewQueue());
        await _node.Ask<Enqueued>(new Enqueue(q, Spec("a"), a));
        await _node.Ask<Enqueued>(new Enqueue(q, Spec("d")));
        var management = _node.System.ActorSelection("/user/" + ManagementActor.Name);
        var purged = await management.Ask<QueuePurged>(new OperatorRequest(new PurgeQueue(q, a), new Requester("ops", "box")), TimeSpan.FromSeconds(20));
        Assert.Equal((a, 1L), (purged.Namespace, purged.Purged));
        Assert.Equal(1L, (await Stats(PartitionId.DefaultNamespace, q)).Ready);
    }

    [Fact(DisplayName = "the topology: q=N counts for every namespace, ns/q=N wins for its namespace, and only valid names exist")]
    public void Topology()
    {
        var topology = new QueueTopology(2, new Dictionary<string, int> { ["one"] = 1, ["billing/one"] = 3 });
        Assert.Equal((1, 3, 2), (topology.PartitionsOf("x", "one"), topology.PartitionsOf("billing", "one"), topology.PartitionsOf("billing", "two")));
        Assert.True(topology.Contains(new PartitionId("billing", "one", 2)));
        Assert.False(topology.Contains(new PartitionId("x", "one", 1)));
        Assert.False(topology.Contains(new PartitionId("Bad", "one", 0)));
        Assert.True(QueueTopology.IsValidQueueKey("billing/one"));
        Assert.False(QueueTopology.IsValidQueueKey("billing/"));
        Assert.False(QueueTopology.IsValidQueueKey("a/b/c"));
    }
}
