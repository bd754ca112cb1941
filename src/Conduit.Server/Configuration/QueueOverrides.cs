using Conduit.Server.Matching;

namespace Conduit.Server.Configuration;

/// <summary>
/// One queue's overrides of the node's <see cref="PartitionOptions"/>: each one left unset keeps the node's value (a
/// <c>q</c> entry's, then <c>Conduit:Partition</c>'s). Defaults to none set.
/// </summary>
public sealed record QueueOverrides
{
    /// <summary>Visibility timeout of a lease when the poller does not say (<see cref="PartitionOptions.LeaseTimeoutMs"/>).</summary>
    public long? LeaseTimeoutMs { get; init; }
    /// <summary>First retry delay (<see cref="PartitionOptions.RetryInitialMs"/>).</summary>
    public long? RetryInitialMs { get; init; }
    /// <summary>Longest retry delay (<see cref="PartitionOptions.RetryMaxMs"/>).</summary>
    public long? RetryMaxMs { get; init; }
    /// <summary>Random spread of a retry delay, a fraction 0..1 (<see cref="PartitionOptions.RetryJitter"/>).</summary>
    public double? RetryJitter { get; init; }
    /// <summary>Attempts before a task is dead-lettered when the producer does not say (<see cref="PartitionOptions.DefaultMaxAttempts"/>).</summary>
    public int? MaxAttempts { get; init; }
    /// <summary>Largest payload accepted (<see cref="PartitionOptions.MaxPayloadBytes"/>).</summary>
    public int? MaxPayloadBytes { get; init; }

    /// <summary><paramref name="options"/> with what this entry sets.</summary>
    public PartitionOptions ApplyTo(PartitionOptions options) => options with
    {
        LeaseTimeoutMs = LeaseTimeoutMs ?? options.LeaseTimeoutMs,
        RetryInitialMs = RetryInitialMs ?? options.RetryInitialMs,
        RetryMaxMs = RetryMaxMs ?? options.RetryMaxMs,
        RetryJitter = RetryJitter ?? options.RetryJitter,
        DefaultMaxAttempts = MaxAttempts ?? options.DefaultMaxAttempts,
        MaxPayloadBytes = MaxPayloadBytes ?? options.MaxPayloadBytes,
    };
}
