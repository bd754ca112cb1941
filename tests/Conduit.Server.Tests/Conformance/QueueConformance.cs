using System.Diagnostics;
using System.Text;
using Conduit.Protocol;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Conformance;

/// <summary>
/// Every operation of the engine through a real node (frontend, sharding, partition, writer, storage). The same
/// suite runs against SQLite and PostgreSQL, as River runs its driver tests against each driver.
/// </summary>
public abstract class QueueConformance(TestNode node)
{
    protected TestNode Node { get; } = node;

    private static string NewQueue() => "q-" + Guid.NewGuid().ToString("N")[..12];
    private static string Text(LeasedTask t) => Encoding.UTF8.GetString(t.Payload);

    [Fact(DisplayName = "enqueue, poll, complete: the task is completed and not delivered again")]
    public async Task EnqueuePollComplete()
    {
        var q = NewQueue();
        var id = (await Node.Enqueue(q, "hello")).TaskId;
        Assert.Equal(TaskStatus.Ready, (await Node.Ask<TaskInfo>(new GetTask(id))).Status);
        var task = Assert.Single(await Node.Poll(q));
        Assert.Equal((id, "hello", 1), (task.TaskId, Text(task), task.Attempt));
        Assert.Equal(TaskStatus.Running, (await Node.Ask<TaskInfo>(new GetTask(id))).Status);
        Assert.Equal(1, (await Node.Ask<QueueStats>(new GetQueueStats(q))).Running);
        await Node.Ask<Completed>(new Complete(task.LeaseToken));
        Assert.Equal(TaskStatus.Completed, (await Node.Ask<TaskInfo>(new GetTask(id))).Status);
        Assert.Empty(await Node.Poll(q, waitMs: 200));
        var stats = await Node.Ask<QueueStats>(new GetQueueStats(q));
        Assert.Equal((0L, 0L, 0L), (stats.Ready, stats.Running, stats.DeadLettered));
    }

    [Fact(DisplayName = "the tasks of one poll are completed with one request, which says per lease whether it completed")]
    public async Task CompleteBatch()
    {
        var q = NewQueue();
        foreach (var text in new[] { "a", "b", "c" }) await Node.Enqueue(q, text);
        var tasks = await Node.Poll(q, max: 3);
        Assert.Equal(3, tasks.Length);
        var reply = await Node.Ask<CompletedBatch>(new Complete(tasks[0].LeaseToken, [tasks[1].LeaseToken, tasks[2].LeaseToken, tasks[0].LeaseToken]));
        Assert.Equal([null, null, null, ErrorCode.UnknownLease], reply.Refusals.Select(r => r?.Code));
        foreach (var t in tasks) Assert.Equal(TaskStatus.Completed, (await Node.Ask<TaskInfo>(new GetTask(t.TaskId))).Status);
        Assert.Empty(await Node.Poll(q, waitMs: 200));
    }

    [Fact(DisplayName = "a batch enqueue returns ids in order, with headers and priority kept")]
    public async Task BatchEnqueue()
    {
        var q = NewQueue();
        var specs = Enumerable.Range(0, 20).Select(i => new TaskSpec(Encoding.UTF8.GetBytes($"t{i}"),
            Headers: new Dictionary<string, string> { ["n"] = i.ToString() })).ToArray();
        var reply = await Node.Ask<EnqueuedBatch>(new EnqueueBatch(q, specs));
        Assert.Equal(20, reply.Results.Select(r => r.TaskId).Distinct().Count());
        var tasks = await Node.Poll(q, max: 50);
        Assert.Equal(reply.Results.Select(r => r.TaskId), tasks.Select(t => t.TaskId));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i.ToString()), tasks.Select(t => t.Headers!["n"]));
    }

    [Fact(DisplayName = "a task enqueued during a long poll reaches the waiting poller")]
    public async Task LongPollSyncMatch()
    {
        var q = NewQueue();
        var poll = Node.Poll(q, waitMs: 20_000);
        await Eventually.Holds(async () => Assert.Equal(1, (await Node.Ask<QueueStats>(new GetQueueStats(q))).WaitingPollers));
        var watch = Stopwatch.StartNew();
        var id = (await Node.Enqueue(q, "now")).TaskId;
        var task = Assert.Single(await poll);
        Assert.Equal(id, task.TaskId);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the waiting poller got the task, not a later poll");
    }

    [Fact(DisplayName = "a long poll with nothing to take answers empty before its wait runs out")]
    public async Task LongPollTimesOut()
    {
        var q = NewQueue();
        var watch = Stopwatch.StartNew();
        Assert.Empty(await Node.Poll(q, waitMs: 1_000));
        Assert.InRange(watch.ElapsedMilliseconds, 500, 15_000);
        Assert.Equal(0, (await Node.Ask<QueueStats>(new GetQueueStats(q))).WaitingPollers);
    }

    [Fact(DisplayName = "ready tasks go out by priority, then age")]
    public async Task Priority()
    {
        var q = NewQueue();
        await Node.Enqueue(q, "low", priority: 1);
        await Node.Enqueue(q, "high", priority: 9);
        await Node.Enqueue(q, "mid", priority: 5);
        await Node.Enqueue(q, "high-2", priority: 9);
        Assert.Equal(["high", "high-2", "mid", "low"], (await Node.Poll(q, max: 10)).Select(Text));
    }

    [Fact(DisplayName = "a repeated idempotency key returns the original task id, marked duplicate")]
    public async Task Idempotency()
    {
        var q = NewQueue();
        var first = await Node.Enqueue(q, "a", key: "order-17");
        var second = await Node.Enqueue(q, "b", key: "order-17");
        Assert.Equal((first.TaskId, false, true), (second.TaskId, first.Duplicate, second.Duplicate));
        Assert.Equal(1, (await Node.Ask<QueueStats>(new GetQueueStats(q))).Ready);
    }

    [Fact(DisplayName = "bad requests get typed refusals and leave the queue unchanged")]
    public async Task BadInput()
    {
        var q = NewQueue();
        await Node.Enqueue(q, "keep");
        Assert.Equal(ErrorCode.InvalidQueueName, await Node.Refusal(new Enqueue("Bad Name!", new TaskSpec([1]))));
        Assert.Equal(ErrorCode.InvalidQueueName, await Node.Refusal(new Poll("", 1, 0)));
        Assert.Equal(ErrorCode.InvalidArgument, await Node.Refusal(new Enqueue(q, new TaskSpec([]))));
        Assert.Equal(ErrorCode.PayloadTooLarge, await Node.Refusal(new Enqueue(q, new TaskSpec(new byte[256 * 1024 + 1]))));
        Assert.Equal(ErrorCode.InvalidArgument, await Node.Refusal(new Poll(q, 0, 0)));
        Assert.Equal(ErrorCode.UnknownLease, await Node.Refusal(new Complete("not-a-lease")));
        Assert.Equal(ErrorCode.UnknownLease, await Node.Refusal(new Heartbeat($"default/{q}#0:99999:1:1:5")));
        Assert.Equal(ErrorCode.TaskNotFound, await Node.Refusal(new GetTask("nope")));
        Assert.Equal(ErrorCode.TaskNotFound, await Node.Refusal(new CancelTask($"default/{q}#0:99999")));
        var stats = await Node.Ask<QueueStats>(new GetQueueStats(q));
        Assert.Equal((1L, 0L), (stats.Ready, stats.Running));
        Assert.Equal("keep", Text(Assert.Single(await Node.Poll(q))));
    }

    [Fact(DisplayName = "heartbeats extend a lease; a cancelled running task is reported through the heartbeat")]
    public async Task HeartbeatAndCancel()
    {
        var q = NewQueue();
        var id = (await Node.Enqueue(q, "long")).TaskId;
        var task = Assert.Single(await Node.Poll(q, leaseMs: 60_000));
        var ack = await Node.Ask<HeartbeatAck>(new Heartbeat(task.LeaseToken));
        Assert.False(ack.CancelRequested);
        Assert.True(ack.LeaseExpiresAtUnixMs >= task.LeaseExpiresAtUnixMs);
        await Node.Ask<Cancelled>(new CancelTask(id));
        Assert.True((await Node.Ask<HeartbeatAck>(new Heartbeat(task.LeaseToken))).CancelRequested);
        Assert.Equal(TaskStatus.Cancelled, (await Node.Ask<TaskInfo>(new GetTask(id))).Status);
        Assert.Equal(ErrorCode.UnknownLease, await Node.Refusal(new Complete(task.LeaseToken)));
    }

    [Fact(DisplayName = "completing twice is refused with UnknownLease")]
    public async Task DoubleComplete()
    {
        var q = NewQueue();
        await Node.Enqueue(q, "once");
        var task = Assert.Single(await Node.Poll(q));
        await Node.Ask<Completed>(new Complete(task.LeaseToken));
        Assert.Equal(ErrorCode.UnknownLease, await Node.Refusal(new Complete(task.LeaseToken)));
    }

    [Fact(DisplayName = "failures retry with backoff, then dead-letter; requeue brings the task back")]
    public async Task RetryDeadLetterRequeue()
    {
        var q = NewQueue();
        var id = (await Node.Enqueue(q, "flaky", maxAttempts: 2)).TaskId;
        var first = Assert.Single(await Node.Poll(q));
        var failed = await Node.Ask<Failed>(new Fail(first.LeaseToken, "boom"));
        Assert.Equal(TaskStatus.Failed, failed.Next);
        var second = Assert.Single(await Node.Poll(q, waitMs: 10_000));
        Assert.Equal((id, 2), (second.TaskId, second.Attempt));
        Assert.Equal(TaskStatus.DeadLettered, (await Node.Ask<Failed>(new Fail(second.LeaseToken, "boom twice"))).Next);
        var dead = Assert.Single((await Node.Ask<DeadLetters>(new ListDeadLetters(q))).Items);
        Assert.Equal((id, "boom twice"), (dead.TaskId, dead.Reason));
        Assert.Equal(1, (await Node.Ask<QueueStats>(new GetQueueStats(q))).DeadLettered);
        Assert.Equal(1, (await Node.Ask<DeadLettersRequeued>(new RequeueDeadLetters(q, [id]))).Count);
        var third = Assert.Single(await Node.Poll(q, waitMs: 10_000));
        Assert.Equal(id, third.TaskId);
        await Node.Ask<Completed>(new Complete(third.LeaseToken));
        Assert.Empty((await Node.Ask<DeadLetters>(new ListDeadLetters(q))).Items);
    }

    [Fact(DisplayName = "an expired lease is redelivered and its old token refused")]
    public async Task LeaseExpiry()
    {
        var q = NewQueue();
        await Node.Enqueue(q, "slow");
        var first = Assert.Single(await Node.Poll(q, leaseMs: 300));
        var second = Assert.Single(await Node.Poll(q, waitMs: 10_000));
        Assert.Equal((first.TaskId, 2), (second.TaskId, second.Attempt));
        Assert.Equal(ErrorCode.LeaseExpired, await Node.Refusal(new Complete(first.LeaseToken)));
        await Node.Ask<Completed>(new Complete(second.LeaseToken));
    }

    [Fact(DisplayName = "a delayed task is scheduled until its time, then delivered")]
    public async Task Delayed()
    {
        var q = NewQueue();
        var id = (await Node.Enqueue(q, "later", delayMs: 700)).TaskId;
        Assert.Equal(TaskStatus.Scheduled, (await Node.Ask<TaskInfo>(new GetTask(id))).Status);
        Assert.Equal(1, (await Node.Ask<QueueStats>(new GetQueueStats(q))).Delayed);
        var task = Assert.Single(await Node.Poll(q, waitMs: 10_000));
        Assert.Equal(id, task.TaskId);
        Assert.True(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() >= task.EnqueuedAtUnixMs + 700);
    }

    [Fact(DisplayName = "a paused queue accepts enqueues but dispatches nothing until resumed")]
    public async Task PauseResume()
    {
        var q = NewQueue();
        Assert.True((await Node.Ask<QueueStateChanged>(new PauseQueue(q))).Paused);
        await Node.Enqueue(q, "waits");
        Assert.Empty(await Node.Poll(q, waitMs: 300));
        Assert.True((await Node.Ask<QueueStats>(new GetQueueStats(q))).Paused);
        var poll = Node.Poll(q, waitMs: 10_000);
        Assert.False((await Node.Ask<QueueStateChanged>(new ResumeQueue(q))).Paused);
        Assert.Equal("waits", Text(Assert.Single(await poll)));
    }

    [Fact(DisplayName = "purge removes what is waiting and keeps what is running")]
    public async Task Purge()
    {
        var q = NewQueue();
        await Node.Enqueue(q, "running");
        var running = Assert.Single(await Node.Poll(q));
        for (var i = 0; i < 5; i++) await Node.Enqueue(q, $"w{i}");
        await Node.Enqueue(q, "delayed", delayMs: 60_000);
        Assert.Equal(6, (await Node.Ask<QueuePurged>(new PurgeQueue(q))).Purged);
        var stats = await Node.Ask<QueueStats>(new GetQueueStats(q));
        Assert.Equal((0L, 0L, 1L), (stats.Ready, stats.Delayed, stats.Running));
        await Node.Ask<Completed>(new Complete(running.LeaseToken));
        Assert.Empty(await Node.Poll(q, waitMs: 200));
    }

    [Fact(DisplayName = "cancelling a queued task means it is never delivered")]
    public async Task CancelQueued()
    {
        var q = NewQueue();
        var drop = (await Node.Enqueue(q, "drop")).TaskId;
        await Node.Enqueue(q, "keep");
        await Node.Ask<Cancelled>(new CancelTask(drop));
        Assert.Equal(["keep"], (await Node.Poll(q, max: 5)).Select(Text));
        Assert.Equal(TaskStatus.Cancelled, (await Node.Ask<TaskInfo>(new GetTask(drop))).Status);
    }
}
