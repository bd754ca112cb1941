using Conduit.Client.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Client.Hosting;

/// <summary>
/// Runs a <see cref="ConduitWorker"/> for the host's lifetime; each task gets a fresh DI scope and its own
/// <typeparamref name="THandler"/>. Registered by <c>AddConduitWorker&lt;THandler&gt;</c>.
/// </summary>
public sealed class ConduitWorkerService<THandler> : IHostedService, IAsyncDisposable where THandler : class, IConduitTaskHandler
{
    private readonly ConduitWorker _worker;

    public ConduitWorkerService(ConduitClient client, string queue, ConduitWorkerOptions options, IServiceScopeFactory scopes, ILoggerFactory? loggers = null)
    {
        _worker = new ConduitWorker(client, queue, async (task, ct) =>
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<THandler>().HandleAsync(task, ct).ConfigureAwait(false);
        }, options, loggers?.CreateLogger($"Conduit.Worker.{queue}"));
    }

    /// <summary>The worker this service runs (counters, <see cref="ConduitWorker.TaskFinished"/>).</summary>
    public ConduitWorker Worker => _worker;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _worker.Start();
        return Task.CompletedTask;
    }

    /// <summary>Stops polling and lets running handlers finish within the grace period (or until the host gives up).</summary>
    public Task StopAsync(CancellationToken cancellationToken) => _worker.StopAsync(cancellationToken);

    public ValueTask DisposeAsync() => _worker.DisposeAsync();
}
