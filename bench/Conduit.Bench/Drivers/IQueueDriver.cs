namespace Conduit.Bench.Drivers;

/// <summary>
/// What a scenario needs from a queue, so Conduit (remoting today, Conduit.Client later) and the SKIP LOCKED
/// baseline run the very same producer and worker loops. A producer or worker is used by one loop at a time.
/// </summary>
public interface IQueueDriver : IAsyncDisposable
{
    /// <summary>Shown in the tables.</summary>
    string Name { get; }
    Task<IProducer> OpenProducerAsync();
    /// <param name="claimSize">Most tasks one poll may take (the baseline's claim size).</param>
    Task<IWorker> OpenWorkerAsync(int claimSize);
}

public interface IProducer : IAsyncDisposable
{
    Task EnqueueAsync(string queue, byte[] payload);
    Task EnqueueBatchAsync(string queue, byte[][] payloads);
}

public interface IWorker : IAsyncDisposable
{
    /// <summary>Up to the claim size of tasks, waiting up to <paramref name="wait"/> for the first; empty when none came.</summary>
    Task<IReadOnlyList<byte[]>> PollAsync(string queue, TimeSpan wait, CancellationToken ct);
    /// <summary>Completes every task the last poll returned (durably, before the task returns).</summary>
    Task CompleteAllAsync();
}
