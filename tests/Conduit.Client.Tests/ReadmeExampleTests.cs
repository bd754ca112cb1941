using System.Collections.Concurrent;
using Conduit.Client.Hosting;
using Conduit.Client.Worker;
using Conduit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Client.Tests;

/// <summary>
/// The README's "Client and worker" example, run against a real node (keep the two in step): the producer's enqueue
/// with options, and a hosted worker with AddConduitWorker handling it once its delay has passed.
/// </summary>
public sealed class ReadmeExampleTests(SqliteClientNodeFixture fixture) : IClassFixture<SqliteClientNodeFixture>
{
    public sealed class EmailHandler(ConcurrentQueue<string> sent) : IConduitTaskHandler
    {
        public async Task HandleAsync(ConduitTask task, CancellationToken cancellationToken) =>
            await SendAsync(task.PayloadText, cancellationToken);

        private Task SendAsync(string text, CancellationToken cancellationToken)
        {
            sent.Enqueue(text);
            return Task.CompletedTask;
        }
    }

    [Fact(DisplayName = "the README's producer and hosted worker run as written")]
    public async Task ReadmeExample()
    {
        var queue = "emails-" + Guid.NewGuid().ToString("N")[..8];

        await using var client = ConduitClient.Connect(fixture.Node.Server);
        var enqueued = await client.EnqueueAsync(queue, "welcome 42", new EnqueueOptions
        {
            Priority = 7, Delay = TimeSpan.FromSeconds(1), IdempotencyKey = "welcome-42", MaxAttempts = 5,
        });
        var stats = await client.GetQueueStatsAsync(queue);
        Assert.Equal((1L, false), (stats.Delayed, enqueued.Duplicate));

        var sent = new ConcurrentQueue<string>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(sent);
        builder.Services.AddConduitClient(o => o.Servers = [fixture.Node.Server]);
        builder.Services.AddConduitWorker<EmailHandler>(queue, new ConduitWorkerOptions { MaxConcurrency = 8 });
        using var host = builder.Build();
        await host.StartAsync();
        await Eventually.Holds(async () => Assert.Equal(TaskStatus.Completed, (await client.GetTaskAsync(enqueued.TaskId)).Status),
            timeoutMs: 30_000);
        await host.StopAsync();
        Assert.Equal(["welcome 42"], sent);
    }
}
