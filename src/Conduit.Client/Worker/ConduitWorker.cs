using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conduit.Client.Worker;

/// <summary>
/// Runs a handler over the tasks of one queue: long-polls in batches for as many tasks as it has free slots
/// (<see cref="ConduitWorkerOptions.MaxConcurrency"/>), runs each in its own <see cref="TaskExecution"/> (heartbeats,
/// cancellation, complete or fail), and on <see cref="StopAsync"/> stops polling and lets running handlers finish
/// within <see cref="ConduitWorkerOptions.ShutdownGrace"/> before cancelling them.
/// </summary>
public sealed class ConduitWorker : IAsyncDisposable
{
    private readonly ConduitClient _client;
    private readonly Func<ConduitTask, CancellationToken, Task> _handler;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stopPolling = new();
    private readonly CancellationTokenSource _abortHandlers = new();
    private readonly ConcurrentDictionary<long, Task> _running = new();
    private readonly object _gate = new();
    private Task? _pollLoop;
    private Task? _stopping;
    private long _nextRun;
    private long _completed;
    private long _failed;

    public ConduitWorker(ConduitClient client, string queue, Func<ConduitTask, CancellationToken, Task> handler,
        ConduitWorkerOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        ArgumentNullException.ThrowIfNull(handler);
        Options = options ?? new ConduitWorkerOptions();
        Options.Validate();
        _client = client;
        _handler = handler;
        _log = logger ?? NullLogger.Instance;
        _slots = new SemaphoreSlim(Options.MaxConcurrency, Options.MaxConcurrency);
        Queue = queue;
    }

    public string Queue { get; }
    public ConduitWorkerOptions Options { get; }

    /// <summary>Handlers running now.</summary>
    public int Running => _running.Count;
    /// <summary>Tasks this worker completed.</summary>
    public long CompletedCount => Interlocked.Read(ref _completed);
    /// <summary>Handler failures this worker reported.</summary>
    public long FailedCount => Interlocked.Read(ref _failed);

    /// <summary>Raised after each delivery ends (on a pool thread). For metrics and tests; keep it quick.</summary>
    public event Action<ConduitTask, TaskOutcome>? TaskFinished;

    /// <summary>Starts polling in the background; returns at once.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_pollLoop is not null) throw new InvalidOperationException("the worker is already started");
            _pollLoop = Task.Run(PollLoopAsync);
        }
        _log.LogInformation("Conduit worker on queue {Queue} started ({Concurrency} at once)", Queue, Options.MaxConcurrency);
    }

    /// <summary>
    /// Stops polling, waits up to <see cref="ConduitWorkerOptions.ShutdownGrace"/> (or until <paramref name="cancellationToken"/>)
    /// for running handlers, then cancels their tokens and waits for them to report. Safe to call more than once.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return _stopping ??= StopCoreAsync(cancellationToken);
        }
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        await _stopPolling.CancelAsync().ConfigureAwait(false);
        if (_pollLoop is not null) await _pollLoop.ConfigureAwait(false);
        var running = Task.WhenAll(_running.Values);
        try
        {
            await running.WaitAsync(Options.ShutdownGrace, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            _log.LogWarning("Conduit worker on queue {Queue}: {Count} handlers still running after the grace period; cancelling them",
                Queue, _running.Count);
            await _abortHandlers.CancelAsync().ConfigureAwait(false);
            // Their outcome (failed: worker stopped) is reported as they return; a handler that ignores its token is left behind.
            await Task.WhenAny(Task.WhenAll(_running.Values), Task.Delay(ConduitClientOptions.DefaultRequestTimeout, CancellationToken.None))
                .ConfigureAwait(false);
        }
        _log.LogInformation("Conduit worker on queue {Queue} stopped ({Completed} completed, {Failed} failed)", Queue, CompletedCount, FailedCount);
    }

    private async Task PollLoopAsync()
    {
        var stop = _stopPolling.Token;
        var backoff = Options.PollErrorBackoff;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _slots.WaitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var free = 1;
            while (free < Options.MaxConcurrency && _slots.Wait(0)) free++;

            IReadOnlyList<ConduitTask> tasks;
            try
            {
                tasks = await _client.PollAsync(Queue, free, Options.PollWait, Options.Lease, stop).ConfigureAwait(false);
                backoff = Options.PollErrorBackoff;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                _slots.Release(free);
                return;
            }
            catch (Exception e)
            {
                _slots.Release(free);
                // Jitter (half to all of the backoff), so workers refused together (Overloaded) do not come back together.
                var pause = backoff * (0.5 + Random.Shared.NextDouble() / 2);
                _log.LogWarning("Conduit worker on queue {Queue}: poll failed ({Error}); retrying in {Backoff}", Queue, e.Message, pause);
                try
                {
                    await Task.Delay(pause, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, ConduitWorkerOptions.MaxPollErrorBackoff.Ticks));
                continue;
            }

            if (tasks.Count < free) _slots.Release(free - tasks.Count);
            foreach (var task in tasks) Launch(task);
        }
    }

    private void Launch(ConduitTask task)
    {
        var id = Interlocked.Increment(ref _nextRun);
        var execution = new TaskExecution(_client, task, _handler, Options.EffectiveHeartbeatInterval, _abortHandlers.Token, _log);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Registered before it runs, so StopAsync never misses a handler that is starting.
        _running[id] = gate.Task;
        _ = Task.Run(async () =>
        {
            var outcome = TaskOutcome.NotReported;
            try
            {
                outcome = await execution.RunAsync().ConfigureAwait(false);
                if (outcome == TaskOutcome.Completed) Interlocked.Increment(ref _completed);
                else if (outcome == TaskOutcome.Failed) Interlocked.Increment(ref _failed);
                TaskFinished?.Invoke(task, outcome);
            }
            catch (Exception e)
            {
                _log.LogError(e, "Conduit worker on queue {Queue}: task {TaskId} ended with {Outcome}", Queue, task.Id, outcome);
            }
            finally
            {
                _running.TryRemove(id, out _);
                _slots.Release();
                gate.TrySetResult();
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (!_running.IsEmpty) return; // a handler that ignored its token still holds these
        _stopPolling.Dispose();
        _abortHandlers.Dispose();
        _slots.Dispose();
    }
}
