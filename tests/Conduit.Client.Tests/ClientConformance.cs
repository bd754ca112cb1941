using System.Diagnostics;
using System.Text;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>
/// Every method of <see cref="ConduitClient"/> through ClusterClient against a real node, on SQLite and on PostgreSQL:
/// the replies, the typed errors, timeouts and cancellation.
/// </summary>
public abstract class ClientConformance(TestNode node, ConduitClient client)
{
    private static readonly TimeSpan ShortWait = TimeSpan.FromMilliseconds(300);

    protected TestNode Node { get; } = node;
    protected ConduitClient Client { get; } = client;

    private static string NewQueue() => "c-" + Guid.NewGuid().ToString("N")[..12];

    [Fact(DisplayName = "enqueue with options, poll, complete: the worker sees payload, headers, priority and attempts")]
    public async Task EnqueuePollComplete()
    {
        var q = NewQueue();
        var options = new EnqueueOptions
        {
            Headers = new Dictionary<string, string> { ["kind"] = "welcome" },
            Priority = 8,
            MaxAttempts = 3,
            IdempotencyKey = "mail-1",
        };
        var enqueued = await Client.EnqueueAsync(q, "hello", options);
        Assert.False(enqueued.Duplicate);
        Assert.Equal(TaskStatus.Ready, (await Client.GetTaskAsync(enqueued.TaskId)).Status);

        var task = Assert.Single(await Client.PollAsync(q, maxTasks: 5, wait: TimeSpan.FromSeconds(5)));
        Assert.Equal((enqueued.TaskId, q, "hello", "welcome"), (task.Id, task.Queue, task.PayloadText, task.Headers["kind"]));
        Assert.Equal((8, 1, 3), (task.Priority, task.Attempt, task.MaxAttempts));
        Assert.True(task.LeaseExpiresAt > DateTimeOffset.UtcNow);
        Assert.Equal(TaskStatus.Running, (await Client.GetTaskAsync(task.Id)).Status);

        Assert.Equal(task.Id, (await Client.CompleteAsync(task.LeaseToken)).TaskId);
        Assert.Equal(TaskStatus.Completed, (await Client.GetTaskAsync(task.Id)).Status);
        var stats = await Client.GetQueueStatsAsync(q);
        Assert.Equal((q, 0L, 0L, 0L), (stats.Queue, stats.Ready, stats.Running, stats.DeadLettered));
    }

    [Fact(DisplayName = "a payload of the largest accepted size (256 KiB) crosses the wire both ways")]
    public async Task LargestPayload()
    {
        var q = NewQueue();
        var payload = new byte[256 * 1024];
        Random.Shared.NextBytes(payload);
        await Client.EnqueueAsync(q, payload);
        Assert.Equal(payload, Assert.Single(await Client.PollAsync(q, wait: ShortWait)).Payload);
    }

    [Fact(DisplayName = "a repeated idempotency key returns the first task id, flagged duplicate")]
    public async Task Idempotency()
    {
        var q = NewQueue();
        var first = await Client.EnqueueAsync(q, "a", new EnqueueOptions { IdempotencyKey = "k" });
        var again = await Client.EnqueueAsync(q, "b", new EnqueueOptions { IdempotencyKey = "k" });
        Assert.Equal((first.TaskId, true), (again.TaskId, again.Duplicate));
        Assert.Equal(1, (await Client.GetQueueStatsAsync(q)).Ready);
    }

    [Fact(DisplayName = "a batch enqueue returns one id per task in order, and a poll takes up to its max")]
    public async Task Batch()
    {
        var q = NewQueue();
        var results = await Client.EnqueueBatchAsync(q, Enumerable.Range(0, 10).Select(i => Encoding.UTF8.GetBytes($"t{i}")));
        var more = await Client.EnqueueBatchAsync(q, [EnqueueOptions.Spec("x", new EnqueueOptions { Priority = 0 })]);
        Assert.Equal(11, results.Concat(more).Select(r => r.TaskId).Distinct().Count());
        var first = await Client.PollAsync(q, maxTasks: 4, wait: ShortWait);
        Assert.Equal(results.Take(4).Select(r => r.TaskId), first.Select(t => t.Id));
        var rest = await Client.PollAsync(q, maxTasks: 100, wait: ShortWait);
        Assert.Equal(["t4", "t5", "t6", "t7", "t8", "t9", "x"], rest.Select(t => t.PayloadText));
    }

    [Fact(DisplayName = "a delayed task is scheduled, then delivered once its time has come; run-at works the same")]
    public async Task Delayed()
    {
        var q = NewQueue();
        var delayed = await Client.EnqueueAsync(q, "later", new EnqueueOptions { Delay = TimeSpan.FromSeconds(3) });
        var at = await Client.EnqueueAsync(q, "at", new EnqueueOptions { RunAt = DateTimeOffset.UtcNow.AddSeconds(3) });
        Assert.Equal(TaskStatus.Scheduled, (await Client.GetTaskAsync(delayed.TaskId)).Status);
        Assert.Equal(TaskStatus.Scheduled, (await Client.GetTaskAsync(at.TaskId)).Status);
        Assert.Equal(2, (await Client.GetQueueStatsAsync(q)).Delayed);
        var got = new List<string>();
        await Eventually.Holds(async () =>
        {
            got.AddRange((await Client.PollAsync(q, maxTasks: 2, wait: ShortWait)).Select(t => t.Id));
            Assert.Equal(2, got.Count);
        }, timeoutMs: 30_000);
        Assert.Equal(new[] { delayed.TaskId, at.TaskId }.Order(), got.Order());
    }

    [Fact(DisplayName = "a long poll waits for work and gets a task enqueued while it waits")]
    public async Task LongPoll()
    {
        var q = NewQueue();
        var poll = Client.PollAsync(q, wait: TimeSpan.FromSeconds(20));
        await Eventually.Holds(async () => Assert.Equal(1, (await Client.GetQueueStatsAsync(q)).WaitingPollers));
        var id = (await Client.EnqueueAsync(q, "now")).TaskId;
        Assert.Equal(id, Assert.Single(await poll).Id);
    }

    [Fact(DisplayName = "a poll answers empty after its wait even when the request timeout is shorter than the wait")]
    public async Task PollTimeoutIsWaitPlusMargin()
    {
        var q = NewQueue();
        await Client.GetQueueStatsAsync(q); // the partition is up
        await using var impatient = new ConduitClient(new ConduitClientOptions { Servers = [Node.Server], RequestTimeout = TimeSpan.FromMilliseconds(700) });
        await impatient.AskRawAsync(ConduitClient.FrontendPath, new GetQueueStats(q), TimeSpan.FromSeconds(30)); // connected
        var watch = Stopwatch.StartNew();
        Assert.Empty(await impatient.PollAsync(q, wait: TimeSpan.FromSeconds(1.5)));
        Assert.True(watch.Elapsed > TimeSpan.FromSeconds(0.7), $"the poll waited {watch.Elapsed}");
    }

    [Fact(DisplayName = "cancelling a waiting poll throws OperationCanceledException at once and withdraws the wait, so a later task is not stranded")]
    public async Task CancelPoll()
    {
        var q = NewQueue();
        using var cts = new CancellationTokenSource();
        var poll = Client.PollAsync(q, wait: TimeSpan.FromSeconds(20), cancellationToken: cts.Token);
        await Eventually.Holds(async () => Assert.Equal(1, (await Client.GetQueueStatsAsync(q)).WaitingPollers));
        var watch = Stopwatch.StartNew();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client.GetQueueStatsAsync(q, cts.Token));
        await Eventually.Holds(async () => Assert.Equal(0, (await Client.GetQueueStatsAsync(q)).WaitingPollers));
        await Client.EnqueueAsync(q, "after");
        var next = Assert.Single(await Client.PollAsync(q, wait: TimeSpan.FromSeconds(5)));
        Assert.Equal(1, next.Attempt); // not leased to the withdrawn poll first
    }

    [Fact(DisplayName = "heartbeats extend the lease; cancel reaches the running task through its heartbeat")]
    public async Task HeartbeatAndCancel()
    {
        var q = NewQueue();
        var id = (await Client.EnqueueAsync(q, "long")).TaskId;
        var task = Assert.Single(await Client.PollAsync(q, wait: ShortWait, lease: TimeSpan.FromSeconds(60)));
        var ack = await Client.HeartbeatAsync(task.LeaseToken);
        Assert.False(ack.CancelRequested);
        Assert.True(ack.LeaseExpiresAtUnixMs >= task.LeaseExpiresAt.ToUnixTimeMilliseconds());
        Assert.Equal(id, (await Client.CancelAsync(id)).TaskId);
        Assert.True((await Client.HeartbeatAsync(task.LeaseToken)).CancelRequested);
        Assert.Equal(TaskStatus.Cancelled, (await Client.GetTaskAsync(id)).Status);
        await Assert.ThrowsAsync<UnknownLeaseException>(() => Client.CompleteAsync(task.LeaseToken));
    }

    [Fact(DisplayName = "fail retries, then dead-letters; dead letters are listed and requeued")]
    public async Task FailDeadLetterRequeue()
    {
        var q = NewQueue();
        var id = (await Client.EnqueueAsync(q, "flaky", new EnqueueOptions { MaxAttempts = 2 })).TaskId;
        var first = Assert.Single(await Client.PollAsync(q, wait: ShortWait));
        var failed = await Client.FailAsync(first.LeaseToken, "boom");
        Assert.Equal((id, TaskStatus.Failed), (failed.TaskId, failed.Next));
        var second = Assert.Single(await Client.PollAsync(q, wait: TimeSpan.FromSeconds(10)));
        Assert.Equal(2, second.Attempt);
        Assert.Equal(TaskStatus.DeadLettered, (await Client.FailAsync(second.LeaseToken, "boom again")).Next);

        var dead = Assert.Single(await Client.ListDeadLettersAsync(q));
        Assert.Equal((id, "boom again"), (dead.TaskId, dead.Reason));
        Assert.Equal("boom again", (await Client.GetTaskAsync(id)).LastError);
        Assert.Equal(1, await Client.RequeueDeadLettersAsync(q, [id]));
        Assert.Empty(await Client.ListDeadLettersAsync(q));
        Assert.Equal(id, Assert.Single(await Client.PollAsync(q, wait: TimeSpan.FromSeconds(5))).Id);

        var other = (await Client.EnqueueAsync(q, "doomed")).TaskId;
        var doomed = Assert.Single(await Client.PollAsync(q, wait: ShortWait));
        Assert.Equal(TaskStatus.DeadLettered, (await Client.FailAsync(doomed.LeaseToken, "fatal", retryable: false)).Next);
        Assert.Equal(1, await Client.RequeueDeadLettersAsync(q));
        Assert.Equal(other, (await Client.GetTaskAsync(other)).TaskId);
    }

    [Fact(DisplayName = "a paused queue accepts tasks but hands none out until resumed; purge drops what waits")]
    public async Task PauseResumePurge()
    {
        var q = NewQueue();
        Assert.True((await Client.PauseAsync(q)).Paused);
        await Client.EnqueueAsync(q, "held");
        Assert.Empty(await Client.PollAsync(q, wait: ShortWait));
        Assert.True((await Client.GetQueueStatsAsync(q)).Paused);
        Assert.False((await Client.ResumeAsync(q)).Paused);
        Assert.Equal("held", Assert.Single(await Client.PollAsync(q, wait: TimeSpan.FromSeconds(5))).PayloadText);

        await Client.EnqueueBatchAsync(q, [[1], [2], [3]]);
        await Client.EnqueueAsync(q, "delayed", new EnqueueOptions { Delay = TimeSpan.FromHours(1) });
        Assert.Equal(4, await Client.PurgeAsync(q));
        var stats = await Client.GetQueueStatsAsync(q);
        Assert.Equal((0L, 0L, 1L), (stats.Ready, stats.Delayed, stats.Running));
    }

    [Fact(DisplayName = "every refusal the node can give arrives as its typed exception, and changes nothing")]
    public async Task TypedErrors()
    {
        var q = NewQueue();
        await Client.EnqueueAsync(q, "keep");

        await Refused<InvalidQueueNameException>(ErrorCode.InvalidQueueName, () => Client.EnqueueAsync("Bad Name!", "x"));
        await Refused<InvalidQueueNameException>(ErrorCode.InvalidQueueName, () => Client.GetQueueStatsAsync(""));
        await Refused<PayloadTooLargeException>(ErrorCode.PayloadTooLarge, () => Client.EnqueueAsync(q, new byte[256 * 1024 + 1]));
        await Refused<InvalidArgumentException>(ErrorCode.InvalidArgument, () => Client.EnqueueAsync(q, Array.Empty<byte>()));
        await Refused<InvalidArgumentException>(ErrorCode.InvalidArgument, () => Client.EnqueueAsync(q, "x", new EnqueueOptions { Priority = 10 }));
        await Refused<InvalidArgumentException>(ErrorCode.InvalidArgument, () => Client.PollAsync(q, maxTasks: 0, wait: ShortWait));
        await Refused<UnknownLeaseException>(ErrorCode.UnknownLease, () => Client.CompleteAsync("not-a-lease"));
        await Refused<UnknownLeaseException>(ErrorCode.UnknownLease, () => Client.HeartbeatAsync($"default/{q}#0:99993:1:1:5:AAAAAAAAAAAAAAAAAAAAAA"));
        await Refused<TaskNotFoundException>(ErrorCode.TaskNotFound, () => Client.GetTaskAsync("nope"));
        await Refused<TaskNotFoundException>(ErrorCode.TaskNotFound, () => Client.CancelAsync($"default/{q}#0:99993"));
        // A batch the writer could never take is InvalidArgument (Overloaded means "retry later", which could not succeed);
        // Overloaded itself is reached with concurrent writes, in PartitionEngineTests.
        await Refused<InvalidArgumentException>(ErrorCode.InvalidArgument, () => Client.EnqueueBatchAsync(q,
            Enumerable.Range(0, ClientNodeFixture.OutstandingWriteLimit + 1).Select(_ => new byte[] { 1 })));
        await Refused<InvalidArgumentException>(ErrorCode.InvalidArgument, () => Client.EnqueueAsync(q, "x", new EnqueueOptions { Delay = TimeSpan.FromDays(400) }));
        await Refused<InvalidArgumentException>(ErrorCode.InvalidArgument, () => Client.EnqueueAsync(q, "x", new EnqueueOptions { Delay = TimeSpan.FromSeconds(-1) }));
        await Refused<InvalidArgumentException>(ErrorCode.InvalidArgument, () => Client.ListDeadLettersAsync(q, limit: 0));
        await Refused<InvalidQueueNameException>(ErrorCode.InvalidQueueName, () => Client.EnqueueAsync("q\n", "x"));
        // Larger than a remoting frame: refused by the client at once (remoting would drop it and the caller would time out).
        await Refused<PayloadTooLargeException>(ErrorCode.PayloadTooLarge, () => Client.EnqueueAsync(q, new byte[9 << 20]));
        await Refused<InvalidArgumentException>(ErrorCode.InvalidArgument, () => Client.EnqueueBatchAsync(q, Enumerable.Range(0, 40).Select(_ => new byte[256 * 1024])));

        var stats = await Client.GetQueueStatsAsync(q);
        Assert.Equal((1L, 0L), (stats.Ready, stats.Running));
        Assert.Equal("keep", Assert.Single(await Client.PollAsync(q, wait: ShortWait)).PayloadText);
    }

    [Fact(DisplayName = "a lease that ran out is refused with LeaseExpired")]
    public async Task LeaseExpired()
    {
        var q = NewQueue();
        var id = (await Client.EnqueueAsync(q, "slow")).TaskId;
        var task = Assert.Single(await Client.PollAsync(q, wait: ShortWait, lease: TimeSpan.FromMilliseconds(200)));
        await Eventually.Holds(async () => Assert.NotEqual(TaskStatus.Running, (await Client.GetTaskAsync(id)).Status));
        await Refused<LeaseExpiredException>(ErrorCode.LeaseExpired, () => Client.CompleteAsync(task.LeaseToken));
        await Refused<LeaseExpiredException>(ErrorCode.LeaseExpired, () => Client.HeartbeatAsync(task.LeaseToken));
    }

    [Fact(DisplayName = "a request nobody answers times out with ConduitTimeoutException while the client is connected")]
    public async Task TimeoutWhileConnected()
    {
        await Client.GetQueueStatsAsync(NewQueue());
        Assert.True(Client.IsConnected);
        var e = await Assert.ThrowsAsync<ConduitTimeoutException>(() =>
            Client.AskRawAsync("/user/no-such-service", new GetQueueStats("x"), TimeSpan.FromMilliseconds(500)));
        Assert.Contains("no answer to GetQueueStats", e.Message);
    }

    private static async Task Refused<TException>(ErrorCode code, Func<Task> request) where TException : ConduitException
    {
        var e = await Assert.ThrowsAsync<TException>(request);
        Assert.Equal(code, e.Code);
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }
}
