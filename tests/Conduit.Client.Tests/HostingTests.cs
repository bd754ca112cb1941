using System.Collections.Concurrent;
using Conduit.Client.Hosting;
using Conduit.Client.Worker;
using Conduit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Client.Tests;

/// <summary><c>AddConduitClient</c> and <c>AddConduitWorker&lt;THandler&gt;</c> in a generic host, against a real node.</summary>
public sealed class HostingTests(SqliteClientNodeFixture fixture) : IClassFixture<SqliteClientNodeFixture>
{
    /// <summary>Records what the handlers saw; a singleton the scoped handlers depend on.</summary>
    public sealed class Journal
    {
        public ConcurrentDictionary<string, string> Handled { get; } = new();
        public ConcurrentBag<int> HandlerInstances { get; } = [];
    }

    public sealed class RecordingHandler(Journal journal) : IConduitTaskHandler
    {
        public Task HandleAsync(ConduitTask task, CancellationToken cancellationToken)
        {
            journal.HandlerInstances.Add(GetHashCode());
            journal.Handled[task.Id] = $"{task.Queue}:{task.PayloadText}";
            return Task.CompletedTask;
        }
    }

    [Fact(DisplayName = "a hosted worker per queue handles what the shared client enqueued, one handler per task from a fresh scope")]
    public async Task HostedWorkers()
    {
        var (a, b) = ("h-a-" + Guid.NewGuid().ToString("N")[..8], "h-b-" + Guid.NewGuid().ToString("N")[..8]);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<Journal>();
        builder.Services.AddConduitClient(o => o.Servers = [fixture.Node.Server]);
        builder.Services.AddConduitClient(o => o.Servers = ["ignored:1"]); // a second call changes nothing
        var workerOptions = new ConduitWorkerOptions { MaxConcurrency = 2, PollWait = TimeSpan.FromSeconds(1) };
        builder.Services.AddConduitWorker<RecordingHandler>(a, workerOptions);
        builder.Services.AddConduitWorker<RecordingHandler>(b, workerOptions);
        using var host = builder.Build();
        await host.StartAsync();

        var client = host.Services.GetRequiredService<ConduitClient>();
        Assert.Equal([fixture.Node.Server], client.Options.Servers);
        Assert.Equal(2, host.Services.GetServices<IHostedService>().OfType<ConduitWorkerService<RecordingHandler>>().Count());
        var ids = new List<string>();
        foreach (var (queue, i) in new[] { a, b }.SelectMany(q => Enumerable.Range(0, 3).Select(i => (q, i))))
            ids.Add((await client.EnqueueAsync(queue, $"job {i}")).TaskId);

        var journal = host.Services.GetRequiredService<Journal>();
        await Eventually.Holds(() =>
        {
            Assert.Equal(6, journal.Handled.Count);
            return Task.CompletedTask;
        });
        Assert.Equal(ids.Order(), journal.Handled.Keys.Order());
        Assert.Equal($"{a}:job 0", journal.Handled[ids[0]]);
        Assert.Equal($"{b}:job 2", journal.Handled[ids[5]]);
        Assert.Equal(6, journal.HandlerInstances.Distinct().Count());
        await Eventually.Holds(async () => Assert.Equal(TaskStatus.Completed, (await client.GetTaskAsync(ids[5])).Status));

        await host.StopAsync();
    }
}
