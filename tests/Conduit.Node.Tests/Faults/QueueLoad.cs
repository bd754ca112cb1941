using System.Collections.Concurrent;
using System.Diagnostics;
using Conduit.Client;
using Conduit.Protocol;

namespace Conduit.Node.Tests.Faults;

/// <summary>
/// Continuous enqueue / poll / complete through <see cref="ConduitClient"/>, as producers and workers would run it, with
/// a record of everything each side was told: which enqueues were acknowledged, which tasks were delivered when, which
/// completes were acknowledged when, and every answer that was neither success nor an allowed refusal (Unavailable,
/// Overloaded, a timeout). Workers retry a complete that got no answer, as a real worker does, until it is answered.
/// </summary>
public sealed class QueueLoad : IAsyncDisposable
{
    /// <summary>Short, so a request lost with a killed node is given up soon and the next one finds the new owner.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(15);
    private const int ProducersPerQueue = 3;
    private const int WorkersPerQueue = 2;
    private const int PollBatch = 20;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string[] _queues;
    private readonly ConduitClient _producers;
    private readonly ConduitClient _workers;
    private readonly CancellationTokenSource _stopProducing = new();
    private readonly CancellationTokenSource _stopWorking = new();
    private readonly List<Task> _loops = new();
    private long _nextPayload;

    /// <summary>payload → task id, for every acknowledged enqueue.</summary>
    public ConcurrentDictionary<string, string> Acknowledged { get; } = new();
    /// <summary>Payloads whose enqueue was sent (acknowledged or not): a delivered task must carry one of these.</summary>
    public ConcurrentDictionary<string, bool> Attempted { get; } = new();
    /// <summary>task id → times (ms on <see cref="Now"/>) it was delivered.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<long>> Deliveries { get; } = new();
    /// <summary>
    /// task id → when the poll that first delivered it was sent: a poll sent before a kill can be answered by the killed
    /// node and reach the worker a few milliseconds after the kill.
    /// </summary>
    public ConcurrentDictionary<string, long> FirstPolledAt { get; } = new();
    /// <summary>task id → when its first complete was acknowledged.</summary>
    public ConcurrentDictionary<string, long> Completed { get; } = new();
    /// <summary>Every acknowledged write (an enqueue or a complete): when it was sent, when it was answered, on which partition.</summary>
    public ConcurrentQueue<(long Sent, long At, string Partition)> Writes { get; } = new();
    public ConcurrentQueue<string> WrongAnswers { get; } = new();
    public ConcurrentDictionary<string, int> Refusals { get; } = new();

    private QueueLoad(string[] queues, ConduitClient producers, ConduitClient workers)
    {
        _queues = queues;
        _producers = producers;
        _workers = workers;
    }

    /// <summary>Milliseconds since the load started: the clock every recorded time uses.</summary>
    public long Now => _clock.ElapsedMilliseconds;

    public static QueueLoad Start(ProcessCluster cluster, params string[] queues)
    {
        var load = new QueueLoad(queues, cluster.Client(RequestTimeout), cluster.Client(RequestTimeout));
        foreach (var queue in queues)
        {
            for (var i = 0; i < ProducersPerQueue; i++) load._loops.Add(Task.Run(() => load.Produce(queue)));
            for (var i = 0; i < WorkersPerQueue; i++) load._loops.Add(Task.Run(() => load.Work(queue)));
        }
        return load;
    }

    public static string PartitionOf(string taskId) => taskId[..taskId.IndexOf(':')];

    private async Task Produce(string queue)
    {
        var token = _stopProducing.Token;
        while (!token.IsCancellationRequested)
        {
            var payload = $"{queue}-{Interlocked.Increment(ref _nextPayload)}";
            Attempted[payload] = true;
            var sent = Now;
            try
            {
                var enqueued = await _producers.EnqueueAsync(queue, payload);
                if (enqueued.Duplicate) WrongAnswers.Enqueue($"enqueue of {payload} without a key answered Duplicate");
                else if (!Acknowledged.TryAdd(payload, enqueued.TaskId)) WrongAnswers.Enqueue($"{payload} acknowledged twice");
                Writes.Enqueue((sent, Now, PartitionOf(enqueued.TaskId)));
            }
            catch (Exception e) when (Allowed(e, "enqueue"))
            {
                await Task.Delay(50, CancellationToken.None);
            }
            catch (Exception e)
            {
                WrongAnswers.Enqueue($"enqueue of {payload}: {e.GetType().Name}: {e.Message}");
            }
            await Task.Delay(5, CancellationToken.None);
        }
    }

    private async Task Work(string queue)
    {
        var token = _stopWorking.Token;
        while (!token.IsCancellationRequested)
        {
            IReadOnlyList<ConduitTask> tasks;
            var polledAt = Now;
            try
            {
                tasks = await _workers.PollAsync(queue, PollBatch, TimeSpan.FromSeconds(1), Lease);
            }
            catch (Exception e) when (Allowed(e, "poll"))
            {
                await Task.Delay(50, CancellationToken.None);
                continue;
            }
            catch (Exception e)
            {
                WrongAnswers.Enqueue($"poll of {queue}: {e.GetType().Name}: {e.Message}");
                continue;
            }
            var at = Now;
            foreach (var task in tasks)
            {
                Deliveries.GetOrAdd(task.Id, _ => new ConcurrentQueue<long>()).Enqueue(at);
                FirstPolledAt.TryAdd(task.Id, polledAt);
                var payload = task.PayloadText;
                if (!Attempted.ContainsKey(payload)) WrongAnswers.Enqueue($"delivered {task.Id} with a payload nobody enqueued: {payload}");
                else if (Acknowledged.TryGetValue(payload, out var id) && id != task.Id)
                    WrongAnswers.Enqueue($"delivered {task.Id} with the payload of {id}");
            }
            await Task.WhenAll(tasks.Select(Complete));
        }
    }

    /// <summary>Completes one delivery, retrying while the cluster does not answer or is Unavailable, for up to two leases.</summary>
    private async Task Complete(ConduitTask task)
    {
        var giveUpAt = Now + 2 * (long)Lease.TotalMilliseconds;
        while (Now < giveUpAt)
        {
            var sent = Now;
            try
            {
                var completed = await _workers.CompleteAsync(task.LeaseToken);
                if (completed.TaskId != task.Id) WrongAnswers.Enqueue($"complete of {task.Id} answered for {completed.TaskId}");
                var at = Now;
                Completed.TryAdd(task.Id, at);
                Writes.Enqueue((sent, at, PartitionOf(task.Id)));
                return;
            }
            catch (Exception e) when (e is LeaseExpiredException or UnknownLeaseException)
            {
                // This delivery was superseded (redelivered after a crash): another one completes the task.
                Refusals.AddOrUpdate("complete: " + e.GetType().Name, 1, (_, n) => n + 1);
                return;
            }
            catch (Exception e) when (Allowed(e, "complete"))
            {
                await Task.Delay(100, CancellationToken.None);
            }
            catch (Exception e)
            {
                WrongAnswers.Enqueue($"complete of {task.Id}: {e.GetType().Name}: {e.Message}");
                return;
            }
        }
    }

    private bool Allowed(Exception e, string what)
    {
        if (e is not (UnavailableException or OverloadedException or ConduitTimeoutException)) return false;
        Refusals.AddOrUpdate($"{what}: {e.GetType().Name}", 1, (_, n) => n + 1);
        return true;
    }

    public void StopProducing() => _stopProducing.Cancel();

    /// <summary>Workers go on until every acknowledged task has been completed, or <paramref name="timeout"/> runs out.</summary>
    public async Task Drain(TimeSpan timeout)
    {
        var until = Now + (long)timeout.TotalMilliseconds;
        while (Now < until && Acknowledged.Values.Any(id => !Completed.ContainsKey(id))) await Task.Delay(200);
    }

    /// <summary>Acknowledged tasks never seen completed; each checked with the cluster, which may have completed it unanswered.</summary>
    public async Task<IReadOnlyList<string>> NotCompleted()
    {
        var missing = new List<string>();
        foreach (var id in Acknowledged.Values.Where(id => !Completed.ContainsKey(id)))
        {
            TaskInfo? info = null;
            for (var attempt = 0; attempt < 5 && info is null; attempt++)
            {
                try { info = await _workers.GetTaskAsync(id); }
                catch (Exception e) when (Allowed(e, "get")) { }
            }
            if (info?.Status != Conduit.Protocol.TaskStatus.Completed) missing.Add($"{id}: {info?.Status.ToString() ?? "no answer"}");
        }
        return missing;
    }

    /// <summary>Tasks delivered more than once, with the time of their first delivery.</summary>
    public IReadOnlyDictionary<string, long> Duplicates() =>
        Deliveries.Where(d => d.Value.Count > 1).ToDictionary(d => d.Key, d => d.Value.Min());

    /// <summary>Longest gap between consecutive acknowledged completes within [from, to], and where it started.</summary>
    public (long Gap, long From) LongestCompletionStall(long from, long to)
    {
        var times = Completed.Values.Where(t => t >= from && t <= to).Order().ToList();
        times.Insert(0, from);
        times.Add(to);
        var (gap, start) = (0L, from);
        for (var i = 1; i < times.Count; i++)
            if (times[i] - times[i - 1] > gap) (gap, start) = (times[i] - times[i - 1], times[i - 1]);
        return (gap, start);
    }

    /// <summary>
    /// When <paramref name="partition"/> first answered a write sent at or after <paramref name="after"/> (so not one it took
    /// before a fault and answered just then); null if never.
    /// </summary>
    public long? FirstWrite(string partition, long after)
    {
        long? first = null;
        foreach (var (sent, at, p) in Writes)
            if (p == partition && sent >= after && (first is null || at < first)) first = at;
        return first;
    }

    /// <summary>
    /// From now on, asks each of <paramref name="partitions"/> about one of its tasks (a <c>GetTask</c>, which goes
    /// straight to the partition, whatever the frontend's load balancing) every 200 ms, until each has answered or
    /// <paramref name="timeout"/> runs out. Returns, per partition, when it first answered a question sent now or later.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long?>> FirstAnswers(IReadOnlySet<string> partitions, TimeSpan timeout)
    {
        var after = Now;
        var until = after + (long)timeout.TotalMilliseconds;
        var probes = partitions.Select(async partition =>
        {
            var id = Acknowledged.Values.Concat(Deliveries.Keys).First(t => PartitionOf(t) == partition);
            while (Now < until)
            {
                try
                {
                    var info = await _workers.GetTaskAsync(id);
                    if (info.TaskId != id) WrongAnswers.Enqueue($"GetTask {id} answered for {info.TaskId}");
                    return (partition, (long?)Now);
                }
                catch (Exception e) when (Allowed(e, "get"))
                {
                    await Task.Delay(200, CancellationToken.None);
                }
            }
            return (partition, (long?)null);
        });
        return (await Task.WhenAll(probes)).ToDictionary(p => p.partition, p => p.Item2);
    }

    public IReadOnlySet<string> PartitionsWritten => Writes.Select(w => w.Partition).ToHashSet();

    public string Summary() =>
        $"acknowledged {Acknowledged.Count}, delivered {Deliveries.Count} ({Deliveries.Values.Sum(d => d.Count)} deliveries), " +
        $"completed {Completed.Count}; refusals: {string.Join(", ", Refusals.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value}"))}";

    public async ValueTask DisposeAsync()
    {
        _stopProducing.Cancel();
        _stopWorking.Cancel();
        try { await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(30)); }
        catch (TimeoutException) { /* a loop stuck in a request: the clients' disposal ends it */ }
        await _producers.DisposeAsync();
        await _workers.DisposeAsync();
    }
}
