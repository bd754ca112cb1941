using System.Collections.Concurrent;
using Conduit.Client.Worker;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary><see cref="ConduitWorker"/> against a real node (SQLite): concurrency, heartbeats, failures, cancel, shutdown.</summary>
public sealed class WorkerTests(SqliteClientNodeFixture fixture) : IClassFixture<SqliteClientNodeFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private ConduitClient Client => fixture.Client;

    private static string NewQueue() => "w-" + Guid.NewGuid().ToString("N")[..12];

    private static ConduitWorkerOptions Options(int concurrency = 2) => new()
    {
        MaxConcurrency = concurrency,
        PollWait = TimeSpan.FromSeconds(1),
        ShutdownGrace = TimeSpan.FromSeconds(10),
    };

    [Fact(DisplayName = "the worker never runs more handlers at once than its concurrency limit, and completes every task")]
    public async Task ConcurrencyLimit()
    {
        var q = NewQueue();
        var ids = (await Client.EnqueueBatchAsync(q, Enumerable.Range(0, 12).Select(i => new[] { (byte)i }))).Select(r => r.TaskId).ToList();
        int current = 0, peak = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = new ConduitWorker(Client, q, async (_, ct) =>
        {
            var now = Interlocked.Increment(ref current);
            InterlockedMax(ref peak, now);
            await Task.Delay(150, ct); // the work
            Interlocked.Decrement(ref current);
        }, Options(concurrency: 3));
        worker.TaskFinished += (_, _) => { if (worker.CompletedCount == ids.Count) done.TrySetResult(); };
        worker.Start();
        await done.Task.WaitAsync(Patience);

        Assert.Equal(3, peak);
        foreach (var id in ids) Assert.Equal(TaskStatus.Completed, (await Client.GetTaskAsync(id)).Status);
    }

    [Fact(DisplayName = "heartbeats keep a task that runs three times its lease leased: it is delivered once and completed")]
    public async Task HeartbeatsKeepLease()
    {
        var q = NewQueue();
        var id = (await Client.EnqueueAsync(q, "long")).TaskId;
        var deliveries = 0;
        var attempt = 0;
        var finished = new TaskCompletionSource<TaskOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options();
        options.Lease = TimeSpan.FromSeconds(1);
        await using var worker = new ConduitWorker(Client, q, async (task, ct) =>
        {
            Interlocked.Increment(ref deliveries);
            attempt = task.Attempt;
            await Task.Delay(TimeSpan.FromSeconds(3), ct); // the work: three leases long
        }, options);
        worker.TaskFinished += (_, outcome) => finished.TrySetResult(outcome);
        worker.Start();

        Assert.Equal(TaskOutcome.Completed, await finished.Task.WaitAsync(Patience));
        Assert.Equal(TaskStatus.Completed, (await Client.GetTaskAsync(id)).Status);
        Assert.Equal((1, 1), (deliveries, attempt));
    }

    [Fact(DisplayName = "a handler that throws makes the task retry, then dead-letter with the exception's message")]
    public async Task ThrowingHandlerDeadLetters()
    {
        var q = NewQueue();
        var id = (await Client.EnqueueAsync(q, "bad", new EnqueueOptions { MaxAttempts = 3 })).TaskId;
        var attempts = new ConcurrentBag<int>();
        await using var worker = new ConduitWorker(Client, q, (task, _) =>
        {
            attempts.Add(task.Attempt);
            throw new InvalidOperationException($"kaput on attempt {task.Attempt}");
        }, Options());
        worker.Start();

        await Eventually.Holds(async () => Assert.Single(await Client.ListDeadLettersAsync(q)), timeoutMs: 30_000);
        var dead = Assert.Single(await Client.ListDeadLettersAsync(q));
        Assert.Equal(id, dead.TaskId);
        Assert.Contains("kaput on attempt 3", dead.Reason);
        Assert.Equal([1, 2, 3], attempts.Order());
        // The dead letter is listed once the journal has it; the worker counts the failure once its answer arrives.
        await Eventually.Holds(() => { Assert.Equal(3, worker.FailedCount); return Task.CompletedTask; });
    }

    [Fact(DisplayName = "a handler that throws ConduitTaskException(retryable: false) dead-letters the task on its first attempt, with its message")]
    public async Task NotRetryableDeadLettersAtOnce()
    {
        var q = NewQueue();
        var id = (await Client.EnqueueAsync(q, "unparseable", new EnqueueOptions { MaxAttempts = 5 })).TaskId;
        var attempts = new ConcurrentBag<int>();
        await using var worker = new ConduitWorker(Client, q, (task, _) =>
        {
            attempts.Add(task.Attempt);
            throw new ConduitTaskException($"cannot parse '{task.PayloadText}'", retryable: false);
        }, Options());
        worker.Start();

        await Eventually.Holds(async () => Assert.Single(await Client.ListDeadLettersAsync(q)), timeoutMs: 30_000);
        var dead = Assert.Single(await Client.ListDeadLettersAsync(q));
        Assert.Equal((id, 1), (dead.TaskId, dead.Attempt));
        Assert.Contains("cannot parse 'unparseable'", dead.Reason);
        Assert.Equal([1], attempts);
        Assert.Equal(TaskStatus.DeadLettered, (await Client.GetTaskAsync(id)).Status);
    }

    [Fact(DisplayName = "a handler that throws ConduitTaskException(retryAfter) has its task retried after that delay, not the queue's backoff")]
    public async Task RetryAfterSetsTheRetry()
    {
        var q = NewQueue();
        var id = (await Client.EnqueueAsync(q, "throttled")).TaskId;
        var failedAt = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = new ConduitWorker(Client, q, (_, _) =>
        {
            failedAt.TrySetResult(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            throw new ConduitTaskException("upstream said: retry in an hour", retryAfter: TimeSpan.FromHours(1));
        }, Options());
        worker.Start();
        var at = await failedAt.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Eventually.Holds(async () => Assert.Equal(TaskStatus.Failed, (await Client.GetTaskAsync(id)).Status), timeoutMs: 30_000);
        var info = await Client.GetTaskAsync(id);
        // The test node's backoff is at most 200 ms: an hour can only be the handler's.
        Assert.InRange(info.RunAtUnixMs - at, 3_590_000, 3_610_000);
        Assert.Contains("retry in an hour", info.LastError);
    }

    [Fact(DisplayName = "cancelling a running task cancels its handler's token")]
    public async Task CancelReachesHandler()
    {
        var q = NewQueue();
        var id = (await Client.EnqueueAsync(q, "cancel me")).TaskId;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokenCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new TaskCompletionSource<TaskOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options();
        options.Lease = TimeSpan.FromSeconds(1);
        await using var worker = new ConduitWorker(Client, q, async (_, ct) =>
        {
            ct.Register(() => tokenCancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }, options);
        worker.TaskFinished += (_, outcome) => finished.TrySetResult(outcome);
        worker.Start();

        await started.Task.WaitAsync(Patience);
        await Client.CancelAsync(id);
        await tokenCancelled.Task.WaitAsync(Patience);
        Assert.Equal(TaskOutcome.Cancelled, await finished.Task.WaitAsync(Patience));
        Assert.Equal(TaskStatus.Cancelled, (await Client.GetTaskAsync(id)).Status);
    }

    [Fact(DisplayName = "when the lease is lost (here: completed by someone else) the handler's token is cancelled and nothing is reported")]
    public async Task LeaseLostReachesHandler()
    {
        var q = NewQueue();
        var id = (await Client.EnqueueAsync(q, "taken over")).TaskId;
        var running = new TaskCompletionSource<ConduitTask>(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new TaskCompletionSource<TaskOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options();
        options.Lease = TimeSpan.FromSeconds(1);
        await using var worker = new ConduitWorker(Client, q, async (task, ct) =>
        {
            running.TrySetResult(task);
            await Task.Delay(Timeout.Infinite, ct);
        }, options);
        worker.TaskFinished += (_, outcome) => finished.TrySetResult(outcome);
        worker.Start();

        var task = await running.Task.WaitAsync(Patience);
        await Client.CompleteAsync(task.LeaseToken);
        Assert.Equal(TaskOutcome.LeaseLost, await finished.Task.WaitAsync(Patience));
        Assert.Equal(TaskStatus.Completed, (await Client.GetTaskAsync(id)).Status);
        Assert.Equal((0L, 0L), (worker.CompletedCount, worker.FailedCount));
    }

    [Fact(DisplayName = "on stop the worker takes no new tasks and lets the running handler finish and complete")]
    public async Task GracefulShutdown()
    {
        var q = NewQueue();
        var id = (await Client.EnqueueAsync(q, "in flight")).TaskId;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = false;
        var worker = new ConduitWorker(Client, q, async (_, ct) =>
        {
            started.TrySetResult();
            await release.Task;
            cancelled = ct.IsCancellationRequested;
        }, Options());
        worker.Start();
        await started.Task.WaitAsync(Patience);

        var stopping = worker.StopAsync();
        // The poll the worker abandoned ends on the node within its wait (1 s); after that nothing takes new tasks.
        await Eventually.Holds(async () => Assert.Equal(0, (await Client.GetQueueStatsAsync(q)).WaitingPollers));
        var late = (await Client.EnqueueAsync(q, "after stop")).TaskId;
        Assert.False(stopping.IsCompleted, "stop waits for the running handler");
        release.SetResult();
        await stopping.WaitAsync(Patience);

        Assert.False(cancelled);
        Assert.Equal(TaskStatus.Completed, (await Client.GetTaskAsync(id)).Status);
        Assert.Equal(TaskStatus.Ready, (await Client.GetTaskAsync(late)).Status);
        Assert.Equal(1, worker.CompletedCount);
        await worker.DisposeAsync();
    }

    [Fact(DisplayName = "a handler still running when the grace period ends is cancelled and its task failed for a retry")]
    public async Task GraceRunsOut()
    {
        var q = NewQueue();
        var id = (await Client.EnqueueAsync(q, "stubborn")).TaskId;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options();
        options.ShutdownGrace = TimeSpan.FromMilliseconds(300);
        var worker = new ConduitWorker(Client, q, async (_, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }, options);
        worker.Start();
        await started.Task.WaitAsync(Patience);

        await worker.StopAsync().WaitAsync(Patience);
        var info = await Client.GetTaskAsync(id);
        Assert.Contains(info.Status, new[] { TaskStatus.Failed, TaskStatus.Ready });
        Assert.Contains("worker stopped", info.LastError);
        await worker.DisposeAsync();
    }

    [Fact(DisplayName = "a pipelined worker polls ahead while its handlers run, never holds more unstarted tasks than its prefetch, and delivers each task once")]
    public async Task PrefetchIsBounded()
    {
        var q = NewQueue();
        var ids = (await Client.EnqueueBatchAsync(q, Enumerable.Range(0, 30).Select(i => new[] { (byte)i }))).Select(r => r.TaskId).ToList();
        int current = 0, peakHandlers = 0, peakPrefetched = 0;
        var attempts = new ConcurrentBag<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options(concurrency: 3);
        options.Prefetch = 2;
        await using var worker = new ConduitWorker(Client, q, async (task, ct) =>
        {
            attempts.Add(task.Attempt);
            InterlockedMax(ref peakHandlers, Interlocked.Increment(ref current));
            await Task.Delay(50, ct); // the work
            Interlocked.Decrement(ref current);
        }, options);
        worker.TaskFinished += (_, _) => { if (worker.CompletedCount == ids.Count) done.TrySetResult(); };
        worker.Start();
        while (!done.Task.IsCompleted)
        {
            InterlockedMax(ref peakPrefetched, worker.Prefetched);
            await Task.WhenAny(done.Task, Task.Delay(2)).WaitAsync(Patience);
        }

        Assert.Equal(3, peakHandlers);
        Assert.InRange(peakPrefetched, 1, 2); // it did poll ahead, and no further than allowed
        Assert.Equal(0, worker.ReleasedCount); // nothing waited long enough to be given back
        Assert.All(attempts, a => Assert.Equal(1, a));
        Assert.Equal(ids.Count, attempts.Count);
        foreach (var id in ids) Assert.Equal(TaskStatus.Completed, (await Client.GetTaskAsync(id)).Status);
    }

    [Fact(DisplayName = "a worker whose MaxConcurrency plus Prefetch passes the 1000 tasks a poll may take still gets tasks: it asks for at most 1000")]
    public async Task LargeWorkerAsksWithinThePollLimit()
    {
        var q = NewQueue();
        var ids = (await Client.EnqueueBatchAsync(q, Enumerable.Range(0, 20).Select(i => new[] { (byte)i }))).Select(r => r.TaskId).ToList();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options(concurrency: 600); // 1200 leases with the default prefetch; a poll for 1200 is refused
        await using var worker = new ConduitWorker(Client, q, (_, _) => Task.CompletedTask, options);
        worker.TaskFinished += (_, _) => { if (worker.CompletedCount == ids.Count) done.TrySetResult(); };
        worker.Start();
        await done.Task.WaitAsync(Patience);
        foreach (var id in ids) Assert.Equal(TaskStatus.Completed, (await Client.GetTaskAsync(id)).Status);
    }

    [Fact(DisplayName = "a poll that brings fewer tasks than free handlers is followed by the next poll at once, while those tasks still run")]
    public async Task PollsAgainWhileRunning()
    {
        var q = NewQueue();
        await Client.EnqueueAsync(q, "first");
        var firstRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = new ConduitWorker(Client, q, async (task, _) =>
        {
            if (task.PayloadText == "first")
            {
                firstRunning.TrySetResult();
                await secondRunning.Task; // holds its handler until the second task runs next to it
            }
            else secondRunning.TrySetResult();
        }, Options(concurrency: 4));
        worker.Start();
        await firstRunning.Task.WaitAsync(Patience);

        await Client.EnqueueAsync(q, "second");
        await secondRunning.Task.WaitAsync(Patience);
        await Eventually.Holds(() => { Assert.Equal(2, worker.CompletedCount); return Task.CompletedTask; });
    }

    [Fact(DisplayName = "a prefetched task that waits a heartbeat interval for a handler is given back with no attempt used, prefetching pauses for a lease, and the task runs once a handler is free")]
    public async Task StalePrefetchIsReleased()
    {
        var q = NewQueue();
        var first = (await Client.EnqueueAsync(q, "slow")).TaskId;
        var second = (await Client.EnqueueAsync(q, "waits")).TaskId;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondAttempt = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options(concurrency: 1);
        options.Prefetch = 1;
        options.Lease = TimeSpan.FromSeconds(3);
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(300);
        await using var worker = new ConduitWorker(Client, q, async (task, _) =>
        {
            if (task.Id == first)
            {
                started.TrySetResult();
                await release.Task;
            }
            else secondAttempt.TrySetResult(task.Attempt);
        }, options);
        worker.Start();
        await started.Task.WaitAsync(Patience);

        // The second task is polled ahead, waits a heartbeat interval and goes back; the worker then prefetches nothing
        // for one lease (3 s), polls ahead again, and gives it back again.
        await Eventually.Holds(() => { Assert.True(worker.ReleasedCount >= 1); return Task.CompletedTask; }, timeoutMs: 30_000);
        var firstGivenBack = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.Holds(() => { Assert.True(worker.ReleasedCount >= 2); return Task.CompletedTask; }, timeoutMs: 30_000);
        Assert.True(firstGivenBack.Elapsed > TimeSpan.FromSeconds(2.5), $"given back again after {firstGivenBack.Elapsed}, within the lease it should prefetch nothing");
        Assert.False(secondAttempt.Task.IsCompleted, "the only handler is busy");
        release.SetResult();

        Assert.Equal(1, await secondAttempt.Task.WaitAsync(Patience)); // going back used no attempt
        await Eventually.Holds(async () => Assert.Equal(TaskStatus.Completed, (await Client.GetTaskAsync(second)).Status));
        Assert.Equal(TaskStatus.Completed, (await Client.GetTaskAsync(first)).Status);
    }

    [Fact(DisplayName = "on stop, tasks polled ahead but not started are given back at once, ready again with no attempt used")]
    public async Task StopReleasesPrefetched()
    {
        var q = NewQueue();
        var ids = (await Client.EnqueueBatchAsync(q, Enumerable.Range(0, 4).Select(i => new[] { (byte)i }))).Select(r => r.TaskId).ToList();
        var running = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options(concurrency: 1);
        options.Prefetch = 3;
        var worker = new ConduitWorker(Client, q, async (task, _) =>
        {
            running.TrySetResult(task.Id);
            await release.Task;
        }, options);
        worker.Start();
        var runningId = await running.Task.WaitAsync(Patience);
        await Eventually.Holds(() => { Assert.Equal(3, worker.Prefetched); return Task.CompletedTask; }, timeoutMs: 30_000);

        var stopping = worker.StopAsync();
        var others = ids.Where(id => id != runningId).ToList();
        await Eventually.Holds(async () =>
        {
            foreach (var id in others) Assert.Equal(TaskStatus.Ready, (await Client.GetTaskAsync(id)).Status);
        });
        Assert.False(stopping.IsCompleted, "stop waits for the running handler");
        foreach (var id in others) Assert.Equal(0, (await Client.GetTaskAsync(id)).Attempt);
        release.SetResult();
        await stopping.WaitAsync(Patience);

        Assert.Equal(3, worker.ReleasedCount);
        Assert.Equal(TaskStatus.Completed, (await Client.GetTaskAsync(runningId)).Status);
        await worker.DisposeAsync();
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
