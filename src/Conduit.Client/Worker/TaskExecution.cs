using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Conduit.Client.Worker;

/// <summary>
/// One delivery of a task on a worker: runs the handler, heartbeats while it runs, cancels the handler's token when a
/// heartbeat says the task was cancelled or the lease is gone, then completes or fails the task. The first heartbeat
/// is due one interval after the task was polled (<c>firstHeartbeat</c> is what is left of it when the handler starts),
/// so a task that waited for a handler (prefetched) keeps as much lease as one that started at once. Later heartbeats
/// are due on that same cadence, one interval apart whatever each took to be answered: timed from the last answer, a
/// slow node stretched the gap between two heartbeats to twice the interval plus the transit, and a task leased for
/// three intervals lost its lease on a loaded machine (a CI failure of <c>WorkerTests.HeartbeatsKeepLease</c>).
/// </summary>
internal sealed class TaskExecution
{
    internal const string ShutdownReason = "the worker stopped before the handler finished";

    private readonly ConduitClient _client;
    private readonly ConduitTask _task;
    private readonly Func<ConduitTask, CancellationToken, Task> _handler;
    private readonly TimeSpan _heartbeatInterval;
    private readonly TimeSpan _firstHeartbeat;
    private readonly Action _handlerReturned;
    private readonly CancellationToken _abort;
    private readonly ILogger _log;
    private volatile bool _cancelRequested;
    private volatile bool _leaseLost;

    /// <param name="handlerReturned">Called once the handler has returned or thrown, before the outcome is reported.</param>
    public TaskExecution(ConduitClient client, ConduitTask task, Func<ConduitTask, CancellationToken, Task> handler,
        TimeSpan heartbeatInterval, TimeSpan firstHeartbeat, Action handlerReturned, CancellationToken abort, ILogger log)
    {
        _client = client;
        _task = task;
        _handler = handler;
        _heartbeatInterval = heartbeatInterval;
        _firstHeartbeat = firstHeartbeat < TimeSpan.Zero ? TimeSpan.Zero : firstHeartbeat;
        _handlerReturned = handlerReturned;
        _abort = abort;
        _log = log;
    }

    public async Task<TaskOutcome> RunAsync()
    {
        using var handlerToken = CancellationTokenSource.CreateLinkedTokenSource(_abort);
        using var stopHeartbeats = new CancellationTokenSource();
        var heartbeats = HeartbeatAsync(handlerToken, stopHeartbeats.Token);
        Exception? error = null;
        try
        {
            // Task.Run: a handler that blocks before its first await must not hold up the worker.
            await Task.Run(() => _handler(_task, handlerToken.Token), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            error = e;
        }
        await stopHeartbeats.CancelAsync().ConfigureAwait(false);
        await heartbeats.ConfigureAwait(false);
        _handlerReturned();

        if (_cancelRequested)
        {
            _log.LogInformation("Task {TaskId} was cancelled while it ran", _task.Id);
            return TaskOutcome.Cancelled;
        }
        if (_leaseLost)
        {
            _log.LogWarning("Task {TaskId} lost its lease while it ran; it is delivered again", _task.Id);
            return TaskOutcome.LeaseLost;
        }
        return await ReportAsync(error).ConfigureAwait(false);
    }

    private async Task<TaskOutcome> ReportAsync(Exception? error)
    {
        // A result that could never be kept fails the task for good rather than leave it to expire and run again.
        if (error is null && _task.Result is { Length: > Complete.MaxOutputBytes } result)
            error = new ConduitTaskException($"the handler's result is {result.Length} bytes; the limit is {Complete.MaxOutputBytes}", retryable: false);
        try
        {
            if (error is null)
            {
                await _client.CompleteAsync(_task.LeaseToken, _task.Result).ConfigureAwait(false);
                return TaskOutcome.Completed;
            }
            var reason = error is OperationCanceledException && _abort.IsCancellationRequested ? ShutdownReason : Describe(error);
            // A handler says a failure is final with ConduitTaskException(retryable: false); anything else is retried.
            var retryable = error is not ConduitTaskException { Retryable: false };
            var failed = await _client.FailAsync(_task.LeaseToken, reason, retryable, (error as ConduitTaskException)?.RetryAfter).ConfigureAwait(false);
            _log.LogWarning(error, "Task {TaskId} attempt {Attempt} failed; next: {Next}", _task.Id, _task.Attempt, failed.Next);
            return TaskOutcome.Failed;
        }
        catch (Exception e) when (e is UnknownLeaseException or LeaseExpiredException)
        {
            _log.LogWarning("Task {TaskId}: the lease was gone when reporting ({Error})", _task.Id, e.Message);
            return TaskOutcome.LeaseLost;
        }
        catch (Exception e)
        {
            _log.LogError(e, "Task {TaskId}: could not report its outcome; it is delivered again when its lease runs out", _task.Id);
            return TaskOutcome.NotReported;
        }
    }

    private async Task HeartbeatAsync(CancellationTokenSource handlerToken, CancellationToken stop)
    {
        var started = Stopwatch.GetTimestamp();
        var due = _firstHeartbeat; // from started
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var wait = due - Stopwatch.GetElapsedTime(started);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, stop).ConfigureAwait(false);
                // The next is due one interval after this one was due, not after its answer; after a stall (this one
                // went late) the cadence starts again from now.
                var now = Stopwatch.GetElapsedTime(started);
                due = (due > now ? due : now) + _heartbeatInterval;
                // A heartbeat that takes longer than an interval is abandoned; the next one tries again.
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
                attempt.CancelAfter(_heartbeatInterval);
                var ack = await _client.HeartbeatAsync(_task.LeaseToken, attempt.Token).ConfigureAwait(false);
                if (ack.CancelRequested)
                {
                    _cancelRequested = true;
                    await handlerToken.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is UnknownLeaseException or LeaseExpiredException)
            {
                _leaseLost = true;
                await handlerToken.CancelAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception e)
            {
                _log.LogWarning("Heartbeat for task {TaskId} did not get through: {Error}", _task.Id, e.Message);
            }
        }
    }

    private static string Describe(Exception e)
    {
        var text = $"{e.GetType().Name}: {e.Message}";
        return text.Length <= 2000 ? text : text[..2000];
    }
}
