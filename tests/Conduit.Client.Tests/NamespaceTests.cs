using System.Text;
using Conduit.Client.Worker;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>One real node and three clients on it: one in namespace <c>alpha</c>, one in <c>beta</c>, one in <c>default</c>.</summary>
public sealed class NamespaceClientFixture : IAsyncLifetime
{
    public TestNode Node { get; private set; } = null!;
    public ConduitClient Alpha { get; private set; } = null!;
    public ConduitClient Beta { get; private set; } = null!;
    public ConduitClient Default { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Node = await TestNode.StartAsync(TestStores.NewSqlite(), partitionsPerQueue: 2);
        Alpha = new ConduitClient(new ConduitClientOptions { Servers = [Node.Server], Namespace = "alpha" });
        Beta = new ConduitClient(new ConduitClientOptions { Servers = [Node.Server], Namespace = "beta" });
        Default = ConduitClient.Connect(Node.Server);
    }

    public async Task DisposeAsync()
    {
        await Alpha.DisposeAsync();
        await Beta.DisposeAsync();
        await Default.DisposeAsync();
        await Node.DisposeAsync();
    }
}

/// <summary>Two clients with different <see cref="ConduitClientOptions.Namespace"/> against one node: same queue names, separate queues.</summary>
public sealed class NamespaceTests(NamespaceClientFixture fixture) : IClassFixture<NamespaceClientFixture>
{
    private static readonly TimeSpan ShortWait = TimeSpan.FromMilliseconds(300);
    private readonly ConduitClient _alpha = fixture.Alpha;
    private readonly ConduitClient _beta = fixture.Beta;

    private static string NewQueue() => "n-" + Guid.NewGuid().ToString("N")[..12];

    [Fact(DisplayName = "two clients in different namespaces enqueue, poll and read stats of a queue of the same name independently")]
    public async Task EnqueuePollStats()
    {
        var q = NewQueue();
        var a = await _alpha.EnqueueBatchAsync(q, [Encoding.UTF8.GetBytes("a1"), Encoding.UTF8.GetBytes("a2")]);
        var b = await _beta.EnqueueAsync(q, "b1");
        Assert.All(a, e => Assert.StartsWith($"alpha/{q}#", e.TaskId));
        Assert.StartsWith($"beta/{q}#", b.TaskId);

        var (statsA, statsB) = (await _alpha.GetQueueStatsAsync(q), await _beta.GetQueueStatsAsync(q));
        Assert.Equal(("alpha", 2L), (statsA.Namespace, statsA.Ready));
        Assert.Equal(("beta", 1L), (statsB.Namespace, statsB.Ready));
        Assert.Equal(0L, (await fixture.Default.GetQueueStatsAsync(q)).Ready);

        Assert.Equal([("beta", q, "b1")], (await _beta.PollAsync(q, maxTasks: 10, wait: ShortWait)).Select(t => (t.Namespace, t.Queue, t.PayloadText)));
        Assert.Equal(["a1", "a2"], (await _alpha.PollAsync(q, maxTasks: 10, wait: ShortWait)).Select(t => t.PayloadText).Order());
        Assert.Empty(await fixture.Default.PollAsync(q, wait: ShortWait));
    }

    [Fact(DisplayName = "pause and purge through one namespace's client leave the other namespace's queue alone")]
    public async Task PausePurge()
    {
        var q = NewQueue();
        await _alpha.EnqueueAsync(q, "a");
        await _beta.EnqueueBatchAsync(q, [Encoding.UTF8.GetBytes("b1"), Encoding.UTF8.GetBytes("b2")]);
        Assert.Equal("alpha", (await _alpha.PauseAsync(q)).Namespace);
        Assert.Empty(await _alpha.PollAsync(q, wait: ShortWait));
        Assert.Single(await _beta.PollAsync(q, wait: ShortWait));
        Assert.Equal(1, await _alpha.PurgeAsync(q));
        var statsB = await _beta.GetQueueStatsAsync(q);
        Assert.Equal((false, 1L, 1L), (statsB.Paused, statsB.Ready, statsB.Running));
        await _alpha.ResumeAsync(q);
        Assert.False((await _alpha.GetQueueStatsAsync(q)).Paused);
    }

    [Fact(DisplayName = "dead letters are listed and requeued per client namespace")]
    public async Task DeadLetters()
    {
        var q = NewQueue();
        var once = new EnqueueOptions { MaxAttempts = 1 };
        var idA = (await _alpha.EnqueueAsync(q, "a", once)).TaskId;
        var idB = (await _beta.EnqueueAsync(q, "b", once)).TaskId;
        await _alpha.FailAsync(Assert.Single(await _alpha.PollAsync(q, wait: ShortWait)).LeaseToken, "boom", retryable: false);
        await _beta.FailAsync(Assert.Single(await _beta.PollAsync(q, wait: ShortWait)).LeaseToken, "boom", retryable: false);

        Assert.Equal(idA, Assert.Single(await _alpha.ListDeadLettersAsync(q)).TaskId);
        Assert.Equal(idB, Assert.Single(await _beta.ListDeadLettersAsync(q)).TaskId);
        await Assert.ThrowsAsync<TaskNotFoundException>(() => _alpha.RequeueDeadLettersAsync(q, [idB]));
        Assert.Equal(1, await _alpha.RequeueDeadLettersAsync(q));
        Assert.Empty(await _alpha.ListDeadLettersAsync(q));
        Assert.Equal(idB, Assert.Single(await _beta.ListDeadLettersAsync(q)).TaskId);
    }

    [Fact(DisplayName = "a task id or lease token from namespace alpha goes to alpha, whichever client sends it")]
    public async Task IdsCarryTheirNamespace()
    {
        var q = NewQueue();
        var idA = (await _alpha.EnqueueAsync(q, "a")).TaskId;
        var idB = (await _beta.EnqueueAsync(q, "b")).TaskId;
        var info = await _beta.GetTaskAsync(idA);
        Assert.Equal(("alpha", TaskStatus.Ready), (info.Namespace, info.Status));
        var leaseA = Assert.Single(await _alpha.PollAsync(q, wait: ShortWait)).LeaseToken;
        await _beta.CompleteAsync(leaseA);
        Assert.Equal(TaskStatus.Completed, (await _alpha.GetTaskAsync(idA)).Status);
        Assert.Equal(TaskStatus.Ready, (await _alpha.GetTaskAsync(idB)).Status);
        Assert.Equal(1L, (await _beta.GetQueueStatsAsync(q)).Ready);
    }

    [Fact(DisplayName = "a worker on a namespace's client runs that namespace's tasks only")]
    public async Task Worker()
    {
        var q = NewQueue();
        await _beta.EnqueueAsync(q, "b");
        var idA = (await _alpha.EnqueueAsync(q, "a")).TaskId;
        var ran = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = new ConduitWorker(_alpha, q, (task, _) =>
        {
            ran.TrySetResult(task.Id);
            return Task.CompletedTask;
        }, new ConduitWorkerOptions { PollWait = ShortWait });
        worker.Start();
        Assert.Equal(idA, await ran.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        await Eventually.Holds(async () => Assert.Equal(TaskStatus.Completed, (await _alpha.GetTaskAsync(idA)).Status));
        var statsB = await _beta.GetQueueStatsAsync(q);
        Assert.Equal((1L, 0L), (statsB.Ready, statsB.Running));
    }
}
