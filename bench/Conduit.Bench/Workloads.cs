using System.Buffers.Binary;
using System.Diagnostics;
using Conduit.Bench.Drivers;
using Conduit.Client;
using Conduit.Client.Worker;
using HdrHistogram;

namespace Conduit.Bench;

public static class Counters
{
    public sealed class Counter
    {
        private long _value;
        public long Value => Interlocked.Read(ref _value);
        public void Increment() => Interlocked.Increment(ref _value);
    }

    public static readonly Counter Overloaded = new();
}

/// <summary>
/// The producer and worker loops every scenario is made of, written once against <see cref="IQueueDriver"/> so
/// Conduit and the baseline do exactly the same work with the same payloads and concurrency.
/// </summary>
public static class Workloads
{
    /// <summary>A payload of <paramref name="bytes"/> bytes whose first 8 hold the Stopwatch timestamp of its enqueue.</summary>
    public static byte[] Payload(int bytes, long timestamp = 0)
    {
        var p = new byte[Math.Max(bytes, 8)];
        for (var i = 8; i < p.Length; i++) p[i] = (byte)('a' + i % 26);
        BinaryPrimitives.WriteInt64LittleEndian(p, timestamp);
        return p;
    }

    public static long TimestampOf(byte[] payload) => BinaryPrimitives.ReadInt64LittleEndian(payload);

    /// <summary><paramref name="producers"/> closed loops enqueueing for <paramref name="duration"/>; batch 1 means single enqueues. Returns tasks enqueued.</summary>
    public static async Task<long> Produce(IQueueDriver driver, string queue, int producers, int batch, int payloadBytes,
        TimeSpan duration, CancellationToken stop = default)
    {
        long total = 0;
        var until = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, producers), new ParallelOptions { MaxDegreeOfParallelism = producers }, async (_, _) =>
        {
            await using var producer = await driver.OpenProducerAsync();
            var payload = Payload(payloadBytes);
            var payloads = Enumerable.Repeat(payload, batch).ToArray();
            while (until.Elapsed < duration && !stop.IsCancellationRequested)
            {
                if (batch == 1) await producer.EnqueueAsync(queue, payload);
                else await producer.EnqueueBatchAsync(queue, payloads);
                Interlocked.Add(ref total, batch);
            }
        });
        return total;
    }

    /// <summary>Enqueues exactly <paramref name="count"/> tasks in batches (not timed: setting up a backlog).</summary>
    public static async Task Fill(IQueueDriver driver, string queue, long count, int producers, int batch, int payloadBytes)
    {
        long next = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, producers), new ParallelOptions { MaxDegreeOfParallelism = producers }, async (_, _) =>
        {
            await using var producer = await driver.OpenProducerAsync();
            var payload = Payload(payloadBytes);
            while (true)
            {
                var start = Interlocked.Add(ref next, batch) - batch;
                if (start >= count) return;
                var n = (int)Math.Min(batch, count - start);
                await producer.EnqueueBatchAsync(queue, Enumerable.Repeat(payload, n).ToArray());
            }
        });
    }

    /// <summary>
    /// Whether worker loops pipeline (<see cref="WorkLoop"/>): poll the next batch while the last one completes. Defaults
    /// to true; <c>--no-pipeline</c> turns it off for both sides.
    /// </summary>
    public static bool Pipeline { get; set; } = true;

    /// <summary>
    /// <paramref name="workers"/> loops that poll up to <paramref name="claim"/> tasks and complete them (<see cref="WorkLoop"/>),
    /// until <paramref name="target"/> tasks are done or <paramref name="cap"/> runs out. Elapsed ends when the target is
    /// reached (polls still waiting on the then empty queue are withdrawn, not waited for).
    /// </summary>
    public static async Task<(long Done, TimeSpan Elapsed)> Drain(IQueueDriver driver, string queue, int workers, int claim,
        long target, TimeSpan cap, Action? onTick = null)
    {
        long done = 0;
        var watch = Stopwatch.StartNew();
        var reached = TimeSpan.Zero;
        using var cts = new CancellationTokenSource(cap);
        var ticker = onTick is null ? Task.CompletedTask : Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested && Interlocked.Read(ref done) < target) { onTick(); await Task.Delay(250); }
        });
        await Parallel.ForEachAsync(Enumerable.Range(0, workers), new ParallelOptions { MaxDegreeOfParallelism = workers }, async (_, _) =>
            await WorkLoop(driver, queue, claim, TimeSpan.FromSeconds(1), cts.Token, n =>
            {
                var now = Interlocked.Add(ref done, n);
                if (now >= target && now - n < target)
                {
                    reached = watch.Elapsed;
                    cts.Cancel();
                }
            }));
        var elapsed = reached > TimeSpan.Zero ? reached : watch.Elapsed;
        cts.Cancel();
        await ticker;
        return (done, elapsed);
    }

    /// <summary>
    /// One worker: polls up to <paramref name="claim"/> tasks (waiting up to <paramref name="wait"/>) and completes them,
    /// until <paramref name="stop"/>; reports each completed batch's size. Pipelined (<see cref="Pipeline"/>), it holds
    /// two driver workers (for the baseline, two connections) and polls the next batch on one while the other completes
    /// the last (Conduit: the Poll and the Complete are in flight together; baseline: the next SELECT … FOR UPDATE SKIP
    /// LOCKED runs while the DELETE and COMMIT of the last claim do), so a loop holds at most two batches.
    /// </summary>
    public static async Task WorkLoop(IQueueDriver driver, string queue, int claim, TimeSpan wait, CancellationToken stop, Action<int> completed)
    {
        await using var current = await driver.OpenWorkerAsync(claim);
        if (!Pipeline)
        {
            while (!stop.IsCancellationRequested)
            {
                var tasks = await PollOrEmpty(current, queue, wait, stop);
                if (tasks.Count == 0) continue;
                await current.CompleteAllAsync();
                completed(tasks.Count);
            }
            return;
        }
        await using var other = await driver.OpenWorkerAsync(claim);
        var (holder, poller) = (current, other);
        var held = 0; // tasks the holder polled and has not completed
        while (!stop.IsCancellationRequested)
        {
            var completing = held > 0 ? holder.CompleteAllAsync() : Task.CompletedTask;
            var polling = PollOrEmpty(poller, queue, wait, stop);
            await completing;
            if (held > 0) completed(held);
            held = (await polling).Count;
            (holder, poller) = (poller, holder);
        }
        if (held > 0)
        {
            await holder.CompleteAllAsync();
            completed(held);
        }
    }

    /// <summary>
    /// The drain the way an application runs it: <paramref name="workers"/> <see cref="ConduitWorker"/>s on one client,
    /// each running up to <paramref name="concurrency"/> handlers that do nothing (their defaults otherwise: prefetch,
    /// batched completions, heartbeats), until <paramref name="target"/> tasks are completed or <paramref name="cap"/> runs out.
    /// </summary>
    public static async Task<(long Done, TimeSpan Elapsed)> DrainWithWorkers(ConduitClient client, string queue, int workers, int concurrency,
        long target, TimeSpan cap)
    {
        long done = 0;
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new ConduitWorkerOptions { MaxConcurrency = concurrency, PollWait = TimeSpan.FromSeconds(1) };
        var pool = Enumerable.Range(0, workers).Select(_ => new ConduitWorker(client, queue, (_, _) => Task.CompletedTask, options)).ToList();
        var watch = Stopwatch.StartNew();
        foreach (var worker in pool)
        {
            worker.TaskFinished += (_, outcome) =>
            {
                if (outcome == TaskOutcome.Completed && Interlocked.Increment(ref done) == target) reached.TrySetResult();
            };
            worker.Start();
        }
        try { await reached.Task.WaitAsync(cap); }
        catch (TimeoutException) { }
        var elapsed = watch.Elapsed;
        var completed = Interlocked.Read(ref done); // not those that finish while the workers stop
        await Task.WhenAll(pool.Select(w => w.DisposeAsync().AsTask()));
        return (completed, elapsed);
    }

    /// <summary>A poll; empty when <paramref name="stop"/> cuts it short.</summary>
    private static async Task<IReadOnlyList<byte[]>> PollOrEmpty(IWorker worker, string queue, TimeSpan wait, CancellationToken stop)
    {
        try
        {
            return await worker.PollAsync(queue, wait, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return [];
        }
    }

    /// <summary>Producers and workers together for <paramref name="duration"/>. Returns (enqueued, completed).</summary>
    public static async Task<(long Enqueued, long Completed)> Mix(IQueueDriver driver, string queue, int producers, int batch,
        int workers, int claim, int payloadBytes, TimeSpan duration)
    {
        long completed = 0;
        using var stop = new CancellationTokenSource(duration);
        var produce = Produce(driver, queue, producers, batch, payloadBytes, duration);
        var work = Parallel.ForEachAsync(Enumerable.Range(0, workers), new ParallelOptions { MaxDegreeOfParallelism = workers }, async (_, _) =>
            await WorkLoop(driver, queue, claim, TimeSpan.FromMilliseconds(500), stop.Token, n => Interlocked.Add(ref completed, n)));
        var enqueued = await produce;
        await work;
        return (enqueued, completed);
    }

    /// <summary>
    /// A steady trickle of single enqueues at <paramref name="ratePerSecond"/> (open loop: each send starts on its
    /// schedule whether or not the previous one was answered) into <paramref name="workers"/> idle waiting
    /// workers. Records enqueue-call-to-worker-has-it latency in microseconds.
    /// </summary>
    public static async Task<(LongHistogram Latency, long Sent, long Received)> Trickle(IQueueDriver driver, string queue, int workers,
        int claim, int payloadBytes, int ratePerSecond, TimeSpan duration)
    {
        var histogram = new LongHistogram(TimeSpan.FromSeconds(60).Ticks / 10, 3); // microseconds, up to 60 s
        long received = 0, sent = 0;
        using var stop = new CancellationTokenSource();
        var ready = new CountdownEvent(workers);
        var work = Parallel.ForEachAsync(Enumerable.Range(0, workers), new ParallelOptions { MaxDegreeOfParallelism = workers }, async (_, _) =>
        {
            await using var worker = await driver.OpenWorkerAsync(claim);
            ready.Signal();
            while (!stop.IsCancellationRequested)
            {
                var tasks = await worker.PollAsync(queue, TimeSpan.FromSeconds(1), CancellationToken.None);
                var now = Stopwatch.GetTimestamp();
                foreach (var t in tasks)
                {
                    var micros = (long)Stopwatch.GetElapsedTime(TimestampOf(t), now).TotalMicroseconds;
                    lock (histogram) histogram.RecordValue(Math.Max(1, micros));
                }
                if (tasks.Count == 0) continue;
                await worker.CompleteAllAsync();
                Interlocked.Add(ref received, tasks.Count);
            }
        });
        ready.Wait(TimeSpan.FromSeconds(30));
        await Task.Delay(300); // let the workers' first polls arrive and wait
        // Several producers, each used by one send at a time (a baseline producer owns one connection).
        var producers = new IProducer[8];
        var gates = new SemaphoreSlim[producers.Length];
        for (var i = 0; i < producers.Length; i++) { producers[i] = await driver.OpenProducerAsync(); gates[i] = new SemaphoreSlim(1); }
        var sends = new List<Task>();
        var start = Stopwatch.GetTimestamp();
        var count = (long)(ratePerSecond * duration.TotalSeconds);
        for (long i = 0; i < count; i++)
        {
            var due = start + (long)(i * (double)Stopwatch.Frequency / ratePerSecond);
            while (Stopwatch.GetTimestamp() < due)
            {
                var ms = (due - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
                if (ms > 1) await Task.Delay((int)ms - 1); else Thread.SpinWait(50);
            }
            var payload = Payload(payloadBytes, Stopwatch.GetTimestamp());
            var k = (int)(i % producers.Length);
            sends.Add(Task.Run(async () =>
            {
                await gates[k].WaitAsync();
                try { await producers[k].EnqueueAsync(queue, payload); } finally { gates[k].Release(); }
            }));
            sent++;
        }
        await Task.WhenAll(sends);
        var deadline = Stopwatch.StartNew();
        while (Interlocked.Read(ref received) < sent && deadline.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20);
        stop.Cancel();
        await work;
        foreach (var p in producers) await p.DisposeAsync();
        return (histogram, sent, Interlocked.Read(ref received));
    }
}
