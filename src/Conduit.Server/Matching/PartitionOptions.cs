namespace Conduit.Server.Matching;

/// <summary>Settings of every queue partition. Knob names follow Temporal's matching service where the idea is the same.</summary>
public sealed record PartitionOptions
{
    public const int DefaultMaxPayloadBytes = 256 * 1024;
    public const int DefaultMaxAttemptsValue = 10;
    public const long DefaultLeaseTimeoutMs = 30_000;
    public const long DefaultRetryInitialMs = 1_000;
    public const long DefaultRetryMaxMs = 300_000;
    public const double DefaultRetryJitter = 0.2;
    /// <summary>
    /// Largest payload cap a node accepts: a task, with its headers and ids, must fit in one reply
    /// (<see cref="WireLimits.MaxReplyBytes"/>) to be polled.
    /// </summary>
    public const int MaxPayloadBytesLimit = WireLimits.MaxReplyBytes - TaskSpecRules.MaxHeadersBytes - 64 * 1024;

    /// <summary>Largest payload accepted. Defaults to 256 KiB.</summary>
    [Configuration.Flag("--max-payload-bytes", "N", "largest payload accepted, in bytes")]
    public int MaxPayloadBytes { get; init; } = DefaultMaxPayloadBytes;
    /// <summary>Attempts before a task is dead-lettered, when the producer does not say. Defaults to 10.</summary>
    [Configuration.Flag("--max-attempts", "N", "attempts before a task is dead-lettered, when the producer does not say")]
    public int DefaultMaxAttempts { get; init; } = DefaultMaxAttemptsValue;
    /// <summary>Visibility timeout of a lease, when the poller does not say. Defaults to 30 s.</summary>
    [Configuration.Flag("--lease-timeout-ms", "MS", "lease (visibility timeout) when the poller does not say")]
    public long LeaseTimeoutMs { get; init; } = DefaultLeaseTimeoutMs;
    /// <summary>Longest long-poll. Defaults to 5 minutes.</summary>
    public long LongPollTimeoutMaxMs { get; init; } = 300_000;
    /// <summary>Most tasks one poll may take. Defaults to 1000.</summary>
    public int MaxPollTasks { get; init; } = WireLimits.MaxIdsPerRequest;
    /// <summary>Furthest ahead a task may be scheduled (delay or run-at). Defaults to 365 days.</summary>
    public long MaxScheduleAheadMs { get; init; } = 365L * 24 * 3600 * 1000;
    /// <summary>Most tasks in one enqueue batch (never more than <see cref="OutstandingWriteLimit"/>, so a batch that is refused as Overloaded can succeed later). Defaults to 5,000.</summary>
    public int MaxEnqueueBatch { get; init; } = 5_000;
    [Configuration.NotAnOption]
    public int MaxEnqueueBatchTasks => Math.Min(MaxEnqueueBatch, OutstandingWriteLimit);
    /// <summary>Ready tasks (with payload) kept in memory per partition; the rest is paged in from the journal. Defaults to 1000.</summary>
    public int ReadyWindow { get; init; } = 1000;
    /// <summary>Journal events read per page-in. Defaults to 16.</summary>
    public int ReadPageEvents { get; init; } = 16;
    /// <summary>First retry delay. Defaults to 1 s; each further attempt doubles it up to <see cref="RetryMaxMs"/>.</summary>
    public long RetryInitialMs { get; init; } = DefaultRetryInitialMs;
    /// <summary>Longest retry delay. Defaults to 5 minutes.</summary>
    public long RetryMaxMs { get; init; } = DefaultRetryMaxMs;
    /// <summary>Random spread of a retry delay, as a fraction. Defaults to 0.2 (±20%).</summary>
    public double RetryJitter { get; init; } = DefaultRetryJitter;
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

    /// <summary>
    /// What is wrong with these options, by property name: nothing when empty. Every time and count must be positive
    /// (the jitter a fraction 0..1, the longest retry delay no shorter than the first, the payload cap within
    /// <see cref="MaxPayloadBytesLimit"/>, a batch within the outstanding-write limit).
    /// </summary>
    public IEnumerable<(string Option, string Problem)> Problems()
    {
        if (MaxPayloadBytes is < 1 or > MaxPayloadBytesLimit) yield return (nameof(MaxPayloadBytes), $"must be 1..{MaxPayloadBytesLimit} bytes");
        if (DefaultMaxAttempts is < 1 or > TaskSpecRules.MaxAttemptsLimit) yield return (nameof(DefaultMaxAttempts), $"must be 1..{TaskSpecRules.MaxAttemptsLimit}");
        if (LeaseTimeoutMs is < 100 or > 24 * 3600 * 1000L) yield return (nameof(LeaseTimeoutMs), "must be 100 ms..24 h (in ms)");
        if (LongPollTimeoutMaxMs < 1) yield return (nameof(LongPollTimeoutMaxMs), "must be at least 1 ms");
        if (MaxPollTasks is < 1 or > WireLimits.MaxIdsPerRequest) yield return (nameof(MaxPollTasks), $"must be 1..{WireLimits.MaxIdsPerRequest}");
        if (MaxScheduleAheadMs < 1) yield return (nameof(MaxScheduleAheadMs), "must be at least 1 ms");
        if (MaxEnqueueBatch < 1) yield return (nameof(MaxEnqueueBatch), "must be at least 1");
        if (ReadyWindow < 1) yield return (nameof(ReadyWindow), "must be at least 1");
        if (ReadPageEvents < 1) yield return (nameof(ReadPageEvents), "must be at least 1");
        if (RetryInitialMs < 1) yield return (nameof(RetryInitialMs), "must be at least 1 ms");
        if (RetryMaxMs < RetryInitialMs) yield return (nameof(RetryMaxMs), $"must be at least RetryInitialMs ({RetryInitialMs} ms)");
        if (double.IsNaN(RetryJitter) || RetryJitter is < 0 or > 1) yield return (nameof(RetryJitter), "must be a fraction 0..1");
        if (MaxWriteBatch < 1) yield return (nameof(MaxWriteBatch), "must be at least 1");
        if (MaxWriteBatchBytes < 1) yield return (nameof(MaxWriteBatchBytes), "must be at least 1");
        if (UnawaitedWriteDelayMs < 0) yield return (nameof(UnawaitedWriteDelayMs), "must be 0 or more ms");
        if (MaxWritesInFlight < 1) yield return (nameof(MaxWritesInFlight), "must be at least 1");
        if (OutstandingWriteLimit < 1) yield return (nameof(OutstandingWriteLimit), "must be at least 1");
        if (SnapshotEvery < 1) yield return (nameof(SnapshotEvery), "must be at least 1");
        if (CompactAtRestAfterMs < 1) yield return (nameof(CompactAtRestAfterMs), "must be at least 1 ms");
        if (TickMs < 1) yield return (nameof(TickMs), "must be at least 1 ms");
        if (IdempotencyRetentionMs < 0) yield return (nameof(IdempotencyRetentionMs), "must be 0 or more ms");
        if (RecoveryBackoffMs < 1) yield return (nameof(RecoveryBackoffMs), "must be at least 1 ms");
        if (RecoveryWaitMs < 1) yield return (nameof(RecoveryWaitMs), "must be at least 1 ms");
        if (RecoveryTimeoutMs < 1) yield return (nameof(RecoveryTimeoutMs), "must be at least 1 ms");
        if (GossipIntervalMs < 1) yield return (nameof(GossipIntervalMs), "must be at least 1 ms");
        if (PassivateIdleAfterMs < 1) yield return (nameof(PassivateIdleAfterMs), "must be at least 1 ms");
    }
}
