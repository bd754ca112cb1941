using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conduit.Client.Worker;

/// <summary>
/// Runs a handler over the tasks of one queue: long-polls in batches, runs each task in its own <see cref="TaskExecution"/>
/// (heartbeats, cancellation, complete or fail) with at most <see cref="ConduitWorkerOptions.MaxConcurrency"/> handlers
/// at once, and on <see cref="StopAsync"/> stops polling, gives back the tasks it polled but did not start, and lets
/// running handlers finish within <see cref="ConduitWorkerOptions.ShutdownGrace"/> before cancelling them.
/// </summary>
/// <remarks>
/// Pipelined: the worker holds up to <see cref="ConduitWorkerOptions.MaxConcurrency"/> + <see cref="ConduitWorkerOptions.Prefetch"/>
/// leases (running handlers, tasks polled ahead and waiting for a handler, finished tasks whose completion is on its
/// way), so it polls the next batch while the handlers of the last one still run and complete, and a finished
/// handler's slot takes the next task at once. It polls only when no task it already has waits for a handler; a task
/// that waits longer than a heartbeat interval is given back (<see cref="ConduitClient.ReleaseAsync"/>: ready again at
/// once, no attempt used), and the first heartbeat of a task is due one interval after it was polled, so a prefetched
/// task never has less lease left than one that started at once.
/// </remarks>
public sealed class ConduitWorker : IAsyncDisposable
{
    private readonly ConduitClient _client;
    private readonly Func<ConduitTask, CancellationToken, Task> _handler;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopPolling = new();
    private readonly CancellationTokenSource _abortHandlers = new();
    private readonly ConcurrentDictionary<long, Task> _running = new();
    private readonly object _gate = new();
    private readonly object _state = new();
    private readonly Queue<PolledTask> _prefetched = new();
    private readonly int _capacity;
    private readonly TimeSpan _maxPrefetchWait;
    /// <summary>Until when (a <see cref="Stopwatch"/> timestamp) the worker polls only for free handlers, after prefetched tasks had to go back.</summary>
    private long _prefetchOffUntil;
    private TaskCompletionSource _changed = NewSignal();
    private int _held; // leases held: prefetched, handler running, outcome being reported (and polls' reservations)
    private int _handlers;
    private Task? _pollLoop;
    private Task? _dispatchLoop;
    private Task? _stopping;
    private long _nextRun;
    private long _completed;
    private long _failed;
    private long _released;

    private readonly record struct PolledTask(ConduitTask Task, long PolledAt);

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
        _capacity = Options.MaxConcurrency + Options.EffectivePrefetch;
        _maxPrefetchWait = Options.EffectiveHeartbeatInterval;
        Queue = queue;
    }

    public string Queue { get; }
    public ConduitWorkerOptions Options { get; }

    /// <summary>Deliveries in progress: handlers running and finished ones whose outcome is being reported.</summary>
    public int Running => _running.Count;
    /// <summary>Tasks polled ahead, waiting for a handler (at most <see cref="ConduitWorkerOptions.Prefetch"/>).</summary>
    public int Prefetched
    {
        get { lock (_state) return _prefetched.Count; }
    }
    /// <summary>Tasks this worker completed.</summary>
    public long CompletedCount => Interlocked.Read(ref _completed);
    /// <summary>Handler failures this worker reported.</summary>
    public long FailedCount => Interlocked.Read(ref _failed);
    /// <summary>Prefetched tasks given back unstarted (waited too long for a handler, or the worker stopped), as the cluster counted them.</summary>
    public long ReleasedCount => Interlocked.Read(ref _released);

    /// <summary>Raised after each delivery ends (on a pool thread). For metrics and tests; keep it quick.</summary>
    public event Action<ConduitTask, TaskOutcome>? TaskFinished;

    /// <summary>Starts polling in the background; returns at once.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_pollLoop is not null) throw new InvalidOperationException("the worker is already started");
            _pollLoop = Task.Run(PollLoopAsync);
            _dispatchLoop = Task.Run(DispatchLoopAsync);
        }
        _log.LogInformation("Conduit worker on queue {Queue} started ({Concurrency} at once, {Prefetch} prefetched)",
            Queue, Options.MaxConcurrency, Options.EffectivePrefetch);
    }

    /// <summary>
    /// Stops polling, gives back the tasks polled but not started (no attempt used), waits up to
    /// <see cref="ConduitWorkerOptions.ShutdownGrace"/> (or until <paramref name="cancellationToken"/>) for running
    /// handlers, then cancels their tokens and waits for them to report. Safe to call more than once.
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
        if (_dispatchLoop is not null) await _dispatchLoop.ConfigureAwait(false);
        List<string> unstarted;
        lock (_state)
        {
            unstarted = _prefetched.Select(p => p.Task.LeaseToken).ToList();
            _prefetched.Clear();
        }
        // Given back while running handlers finish, within the same grace period (an unreachable cluster cannot hold the stop).
        using var releaseLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        releaseLimit.CancelAfter(Options.ShutdownGrace);
        var releasing = unstarted.Count > 0 ? ReleaseAsync(unstarted, "the worker stopped", releaseLimit.Token) : Task.CompletedTask;
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
        await releasing.ConfigureAwait(false);
        _log.LogInformation("Conduit worker on queue {Queue} stopped ({Completed} completed, {Failed} failed)", Queue, CompletedCount, FailedCount);
    }

    /// <summary>Polls for as many tasks as the worker may still hold, whenever nothing it holds waits for a handler.</summary>
    private async Task PollLoopAsync()
    {
        var stop = _stopPolling.Token;
        var backoff = Options.PollErrorBackoff;
        while (!stop.IsCancellationRequested)
        {
            Task changed;
            int want;
            var prefetchResumesIn = Timeout.InfiniteTimeSpan;
            lock (_state)
            {
                changed = _changed.Task;
                // Tasks still waiting for a handler: more would only wait longer. After prefetched tasks had to go back
                // (handlers slower than a heartbeat interval), only free handlers are polled for, for one lease period.
                var offFor = Volatile.Read(ref _prefetchOffUntil) - Stopwatch.GetTimestamp();
                var capacity = _capacity;
                if (offFor > 0)
                {
                    capacity = Options.MaxConcurrency;
                    prefetchResumesIn = TimeSpan.FromSeconds((double)offFor / Stopwatch.Frequency) + TimeSpan.FromMilliseconds(1);
                }
                want = _prefetched.Count == 0 ? Math.Min(capacity - _held, WireLimits.MaxIdsPerRequest) : 0;
                if (want > 0) _held += want; // reserved for this poll's answer
            }
            if (want <= 0)
            {
                try
                {
                    // Woken by a change, or when prefetching may resume.
                    await changed.WaitAsync(prefetchResumesIn, stop).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }

            IReadOnlyList<ConduitTask> tasks;
            try
            {
                tasks = await _client.PollAsync(Queue, want, Options.PollWait, Options.Lease, stop).ConfigureAwait(false);
                backoff = Options.PollErrorBackoff;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Unhold(want);
                return;
            }
            catch (Exception e)
            {
                Unhold(want);
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

            var now = Stopwatch.GetTimestamp();
            lock (_state)
            {
                _held -= want - tasks.Count;
                foreach (var task in tasks) _prefetched.Enqueue(new PolledTask(task, now));
            }
            Signal();
        }
    }

    /// <summary>Starts polled tasks as handler slots free up, oldest first; gives back those that waited a heartbeat interval.</summary>
    private async Task DispatchLoopAsync()
    {
        var stop = _stopPolling.Token;
        while (!stop.IsCancellationRequested)
        {
            Task changed;
            PolledTask? start = null;
            List<string>? stale = null;
            var wait = Timeout.InfiniteTimeSpan;
            bool emptied;
            lock (_state)
            {
                changed = _changed.Task;
                var before = _prefetched.Count;
                var now = Stopwatch.GetTimestamp();
                while (_prefetched.TryPeek(out var oldest) && Stopwatch.GetElapsedTime(oldest.PolledAt, now) >= _maxPrefetchWait)
                    (stale ??= []).Add(_prefetched.Dequeue().Task.LeaseToken);
                if (_handlers < Options.MaxConcurrency && _prefetched.TryDequeue(out var next))
                {
                    _handlers++;
                    start = next;
                }
                else if (_prefetched.TryPeek(out var oldest))
                {
                    wait = _maxPrefetchWait - Stopwatch.GetElapsedTime(oldest.PolledAt, now);
                    if (wait < TimeSpan.FromMilliseconds(1)) wait = TimeSpan.FromMilliseconds(1);
                }
                emptied = before > 0 && _prefetched.Count == 0;
            }
            if (emptied) Signal(); // the poll loop polls again only once nothing waits for a handler
            if (stale is not null)
            {
                Volatile.Write(ref _prefetchOffUntil, Stopwatch.GetTimestamp() + (long)(Options.Lease.TotalSeconds * Stopwatch.Frequency));
                _ = ReleaseAsync(stale, "they waited a heartbeat interval for a handler", CancellationToken.None);
            }
            if (start is { } polled)
            {
                Launch(polled);
                continue;
            }
            try
            {
                await changed.WaitAsync(wait, stop).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // the oldest prefetched task is due to be given back
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Launch(PolledTask polled)
    {
        var task = polled.Task;
        var id = Interlocked.Increment(ref _nextRun);
        var handlerDone = 0;
        void HandlerReturned()
        {
            if (Interlocked.Exchange(ref handlerDone, 1) != 0) return;
            lock (_state) _handlers--;
            Signal();
        }
        var interval = Options.EffectiveHeartbeatInterval;
        var execution = new TaskExecution(_client, task, _handler, interval, interval - Stopwatch.GetElapsedTime(polled.PolledAt),
            HandlerReturned, _abortHandlers.Token, _log);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Registered before it runs, so StopAsync never misses a handler that is starting.
        _running[id] = gate.Task;
        _ = Task.Run(async () =>
        {
            var outcome = TaskOutcome.NotReported;
            var started = Stopwatch.GetTimestamp();
            ConduitClientMetrics.HandlerStarted(Queue);
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
                ConduitClientMetrics.HandlerFinished(Queue, outcome, Stopwatch.GetElapsedTime(started));
                HandlerReturned();
                _running.TryRemove(id, out _);
                Unhold(1);
                gate.TrySetResult();
            }
        });
    }

    /// <summary>Gives prefetched tasks back: ready again at once, no attempt used.</summary>
    private async Task ReleaseAsync(List<string> leaseTokens, string why, CancellationToken cancellationToken)
    {
        try
        {
            Interlocked.Add(ref _released, await _client.ReleaseAsync(leaseTokens, cancellationToken).ConfigureAwait(false));
            _log.LogDebug("Conduit worker on queue {Queue}: gave back {Count} unstarted tasks ({Why})", Queue, leaseTokens.Count, why);
        }
        catch (Exception e)
        {
            _log.LogWarning("Conduit worker on queue {Queue}: could not give back {Count} unstarted tasks ({Why}): {Error}; " +
                            "they are delivered again when their leases run out", Queue, leaseTokens.Count, why, e.Message);
        }
        finally
        {
            Unhold(leaseTokens.Count);
        }
    }

    private void Unhold(int count)
    {
        lock (_state) _held -= count;
        Signal();
    }

    /// <summary>Wakes the loops waiting for a change of the counts or the prefetched tasks.</summary>
    private void Signal()
    {
        TaskCompletionSource fired;
        lock (_state)
        {
            fired = _changed;
            _changed = NewSignal();
        }
        fired.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (!_running.IsEmpty) return; // a handler that ignored its token still holds these
        _stopPolling.Dispose();
        _abortHandlers.Dispose();
    }
}
