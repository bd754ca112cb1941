using Conduit.Bench.Drivers;

namespace Conduit.Bench;

/// <summary>
/// Wraps a driver and counts what its producers enqueued and its workers completed, so a long run can be read while it
/// goes (the sustained scenario samples these each period). The loops themselves stay those of <see cref="Workloads"/>.
/// </summary>
public sealed class CountingDriver(IQueueDriver inner) : IQueueDriver
{
    private long _enqueued, _completed;

    public long Enqueued => Interlocked.Read(ref _enqueued);
    public long Completed => Interlocked.Read(ref _completed);
    public string Name => inner.Name;

    public async Task<IProducer> OpenProducerAsync() => new Producer(this, await inner.OpenProducerAsync());
    public async Task<IWorker> OpenWorkerAsync(int claimSize) => new Worker(this, await inner.OpenWorkerAsync(claimSize));

    /// <summary>The inner driver belongs to the bench: not disposed here.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Producer(CountingDriver d, IProducer inner) : IProducer
    {
        public async Task EnqueueAsync(string queue, byte[] payload)
        {
            await inner.EnqueueAsync(queue, payload);
            Interlocked.Increment(ref d._enqueued);
        }

        public async Task EnqueueBatchAsync(string queue, byte[][] payloads)
        {
            await inner.EnqueueBatchAsync(queue, payloads);
            Interlocked.Add(ref d._enqueued, payloads.Length);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class Worker(CountingDriver d, IWorker inner) : IWorker
    {
        private int _polled;

        public async Task<IReadOnlyList<byte[]>> PollAsync(string queue, TimeSpan wait, CancellationToken ct)
        {
            var tasks = await inner.PollAsync(queue, wait, ct);
            _polled = tasks.Count;
            return tasks;
        }

        public async Task CompleteAllAsync()
        {
            var polled = _polled;
            _polled = 0;
            await inner.CompleteAllAsync();
            Interlocked.Add(ref d._completed, polled);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
