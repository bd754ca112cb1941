namespace Conduit.Server.Matching;

/// <summary>Settings of every queue partition. Knob names follow Temporal's matching service where the idea is the same.</summary>
public sealed record PartitionOptions
{
    public const int DefaultMaxPayloadBytes = 256 * 1024;
    public const int DefaultMaxAttemptsValue = 10;
    public const long DefaultLeaseTimeoutMs = 30_000;

    /// <summary>Largest payload accepted. Defaults to 256 KiB.</summary>
    public int MaxPayloadBytes { get; init; } = DefaultMaxPayloadBytes;
    /// <summary>Attempts before a task is dead-lettered, when the producer does not say. Defaults to 10.</summary>
    public int DefaultMaxAttempts { get; init; } = DefaultMaxAttemptsValue;
    /// <summary>Visibility timeout of a lease, when the poller does not say. Defaults to 30 s.</summary>
    public long LeaseTimeoutMs { get; init; } = DefaultLeaseTimeoutMs;
    /// <summary>Longest long-poll. Defaults to 5 minutes.</summary>
    public long LongPollTimeoutMaxMs { get; init; } = 300_000;
    /// <summary>Most tasks one poll may take. Defaults to 1000.</summary>
    public int MaxPollTasks { get; init; } = WireLimits.MaxIdsPerRequest;
    /// <summary>Furthest ahead a task may be scheduled (delay or run-at). Defaults to 365 days.</summary>
    public long MaxScheduleAheadMs { get; init; } = 365L * 24 * 3600 * 1000;
    /// <summary>Most tasks in one enqueue batch (never more than <see cref="OutstandingWriteLimit"/>, so a batch that is refused as Overloaded can succeed later). Defaults to 5,000.</summary>
    public int MaxEnqueueBatch { get; init; } = 5_000;
    public int MaxEnqueueBatchTasks => Math.Min(MaxEnqueueBatch, OutstandingWriteLimit);
    /// <summary>Ready tasks (with payload) kept in memory per partition; the rest is paged in from the journal. Defaults to 1000.</summary>
    public int ReadyWindow { get; init; } = 1000;
    /// <summary>Journal events read per page-in. Defaults to 16.</summary>
    public int ReadPageEvents { get; init; } = 16;
    /// <summary>First retry delay. Defaults to 1 s; each further attempt doubles it up to <see cref="RetryMaxMs"/>.</summary>
    public long RetryInitialMs { get; init; } = 1_000;
    /// <summary>Longest retry delay. Defaults to 5 minutes.</summary>
    public long RetryMaxMs { get; init; } = 300_000;
    /// <summary>Random spread of a retry delay, as a fraction. Defaults to 0.2 (±20%).</summary>
    public double RetryJitter { get; init; } = 0.2;
    /// <summary>Most entries (tasks or changes) in one journal event. Defaults to 500.</summary>
    public int MaxWriteBatch { get; init; } = 500;
    /// <summary>Most payload bytes in one journal event. Defaults to 4 MiB.</summary>
    public int MaxWriteBatchBytes { get; init; } = 4 * 1024 * 1024;
    /// <summary>
    /// How long a write nobody waits on (dispatch hints, lease expiries) may wait for a write somebody waits on, to share
    /// its event, when the writer is idle. Defaults to 20 ms.
    /// </summary>
    public long UnawaitedWriteDelayMs { get; init; } = 20;
    /// <summary>
    /// Events the writer has handed to Akka.Persistence and not yet seen durable. Akka sends a persistent actor's events
    /// to the journal one call at a time, so this is not concurrency: with 2, one event is being written and the next
    /// waits ready, going to the journal the moment the first is durable (no round trip through the writer in between);
    /// with more, the waiting events share that next call. Defaults to 2 (WritePipelineTests).
    /// </summary>
    public int MaxWritesInFlight { get; init; } = 2;
    /// <summary>Entries accepted but not yet durable beyond which new work is refused with Overloaded. Defaults to 20,000.</summary>
    public int OutstandingWriteLimit { get; init; } = 20_000;
    /// <summary>A snapshot is saved every this many events, then fully-settled events are deleted. Defaults to 500.</summary>
    public int SnapshotEvery { get; init; } = 500;
    /// <summary>
    /// A partition that has written nothing for this long takes a snapshot (and deletes what it can) if a relocation, a
    /// failed snapshot or delete, or a quarter of <see cref="SnapshotEvery"/> events wait for one: compaction at rest.
    /// Defaults to 2 s.
    /// </summary>
    public long CompactAtRestAfterMs { get; init; } = 2_000;
    /// <summary>How often leases, poll deadlines and delayed tasks are checked. Defaults to 100 ms.</summary>
    public long TickMs { get; init; } = 100;
    /// <summary>How long an idempotency key keeps returning the original task. Defaults to 24 h.</summary>
    public long IdempotencyRetentionMs { get; init; } = 24 * 3600 * 1000L;
    /// <summary>
    /// After storage fails, how long a partition answers Unavailable before it tries to recover again. Defaults to 1 s, so
    /// a partition serves again within about a second and one recovery of the database's return. Costs one recovery
    /// attempt (a snapshot load, so a connection attempt) per partition per second while storage is down.
    /// </summary>
    public long RecoveryBackoffMs { get; init; } = 1_000;
    /// <summary>
    /// Longest a request waits for a (re)starting partition to recover; then it, and every request after it until the
    /// recovery finishes, is answered Unavailable (retry). Defaults to 5 s: well under a client's request timeout, so a
    /// slow recovery gives the caller an answer, not a timeout.
    /// </summary>
    public long RecoveryWaitMs { get; init; } = 5_000;
    /// <summary>
    /// A recovery that shows no progress for this long (no snapshot loaded, no <see cref="TaskWriter.ProgressEvery"/> events
    /// replayed) is abandoned (its writer stopped) and tried again after <see cref="RecoveryBackoffMs"/>, whatever hangs; a
    /// long replay that keeps moving is never cut short. Defaults to 30 s, the same as Akka's recovery-event-timeout
    /// (<see cref="Hosting.FailoverTimings.RecoveryEventTimeout"/>), which bounds each snapshot load or replay page alone.
    /// </summary>
    public long RecoveryTimeoutMs { get; init; } = 30_000;
    /// <summary>
    /// How long after a change a partition of a multi-partition queue reports its load (at most once per this period
    /// while it keeps changing; never while it does not), and how often a node publishes its partitions' load. Defaults to 1 s.
    /// </summary>
    public long GossipIntervalMs { get; init; } = 1_000;
    /// <summary>An empty partition with no pollers passivates after this long. Defaults to 2 minutes.</summary>
    public long PassivateIdleAfterMs { get; init; } = 120_000;

    public long RetryDelayMs(int attempt, double random01)
    {
        var exp = Math.Min(30, Math.Max(0, attempt - 1));
        var baseMs = Math.Min(RetryMaxMs, RetryInitialMs * (double)(1L << exp));
        var spread = 1 + RetryJitter * (2 * random01 - 1);
        return Math.Max(1, (long)(baseMs * spread));
    }
}
