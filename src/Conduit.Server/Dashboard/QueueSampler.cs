using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Server.Dashboard;

/// <summary>
/// Asks the node for its queue list every <see cref="Interval"/> and records it in <see cref="QueueHistory"/>, so the
/// chart shows the last minutes. One <see cref="ListQueues"/> per interval (what <c>conduit queues</c> asks: a fan-out
/// to every task-service node, then one stats request per running queue), and only while the dashboard is watched
/// (<see cref="QueueHistory.WatchedFor"/> after its data was last asked for): a node nobody looks at pays nothing.
/// </summary>
internal sealed class QueueSampler(DashboardBackend backend, QueueHistory history, ILogger<QueueSampler> log) : BackgroundService
{
    /// <summary>Time between samples: 5 s.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            if (!history.IsWatched(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())) continue;
            try
            {
                switch (await backend.Ask(new ListQueues(), stoppingToken))
                {
                    case QueueList list:
                        history.Record(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), list.Queues);
                        break;
                    case Rejected refused:
                        // Starting, or storage down: the chart shows a gap, the next sample tries again.
                        log.LogDebug("Dashboard sampler: the queue list was refused: {Refusal}", refused.Message);
                        break;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The sampler must not stop the node; the next tick tries again.
                log.LogWarning("Dashboard sampler: asking for the queue list failed: {Error}", e.Message);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
