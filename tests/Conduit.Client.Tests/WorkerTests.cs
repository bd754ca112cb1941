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
        Assert.Equal(3, worker.FailedCount);
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

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
