namespace Conduit.Server.Persistence;

/// <summary>Marker for what lands in the journal and the snapshot store; bound to <see cref="JournalSerializer"/>.</summary>
public interface IConduitEvent;

/// <summary>
/// The partition's only event type: everything one write of the <c>TaskWriter</c> made durable, in the order it
/// was decided. One event carries many tasks, so throughput is tasks per write, not writes per second.
/// </summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class PartitionBatch : IConduitEvent
{
    [MemoryPackOrder(0)] public BatchEntry[] Entries { get; set; } = [];
}

public enum EntryKind : byte
{
    /// <summary><see cref="BatchEntry.Task"/> was accepted.</summary>
    Enqueued = 1,
    /// <summary>The task was handed to a worker as delivery number <see cref="BatchEntry.Attempt"/>. A hint for recovery, written without waiting.</summary>
    Dispatched = 2,
    Completed = 3,
    /// <summary>Delivery <see cref="BatchEntry.Attempt"/> failed or expired; the next is due at <see cref="BatchEntry.AtMs"/>.</summary>
    Retried = 4,
    DeadLettered = 5,
    Cancelled = 6,
    /// <summary>A dead letter goes back to the queue with fresh attempts, due at <see cref="BatchEntry.AtMs"/>.</summary>
    Requeued = 7,
    /// <summary>Every task below counter <see cref="BatchEntry.AtMs"/> that is not running is dropped.</summary>
    Purged = 8,
    Paused = 9,
    Resumed = 10,
    /// <summary>A new owner took the partition; <see cref="BatchEntry.AtMs"/> is its epoch.</summary>
    OwnerEpochStarted = 11,
    /// <summary>
    /// A copy of a long-unsettled task (<see cref="BatchEntry.Task"/>, its original sequence number) written anew, so the
    /// old event that held it can be deleted. Its state is unchanged.
    /// </summary>
    Relocated = 12,
    /// <summary>The queue's dispatch limits are now <see cref="BatchEntry.Limits"/> (docs/limits.md).</summary>
    LimitsSet = 13,
}

[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class BatchEntry
{
    [MemoryPackOrder(0)] public EntryKind Kind { get; set; }
    [MemoryPackOrder(1)] public long Seq { get; set; }
    [MemoryPackOrder(2)] public TaskRecord? Task { get; set; }
    [MemoryPackOrder(3)] public int Attempt { get; set; }
    [MemoryPackOrder(4)] public long AtMs { get; set; }
    /// <summary>
    /// Why a task failed or was dead-lettered. On <see cref="EntryKind.Dispatched"/>: the task's concurrency key, so a
    /// new owner counts the deliveries it holds over per key (in this member rather than a new one: every member costs
    /// bytes in each of the millions of dispatch and completion entries, null or not).
    /// </summary>
    [MemoryPackOrder(5)] public string? Reason { get; set; }
    /// <summary>Set on <see cref="EntryKind.Dispatched"/>: what the partition needs to know of a fresh task once it runs.</summary>
    [MemoryPackOrder(6)] public int MaxAttempts { get; set; }
    [MemoryPackOrder(7)] public long EnqueuedAtMs { get; set; }
    /// <summary>Set on <see cref="EntryKind.Dispatched"/>: the lease's nonce, so a new owner checks the worker's token exactly (with the epoch in force there).</summary>
    [MemoryPackOrder(8)] public long Nonce { get; set; }
    // Order 9 is unused: a dispatch's epoch is the one in force where its hint lies in the journal.
    /// <summary>
    /// Set on the first <see cref="EntryKind.OwnerEpochStarted"/> of a partition: the random key its lease tokens are
    /// authenticated with. Every later owner recovers it (from here or the snapshot); it never leaves the journal.
    /// </summary>
    [MemoryPackOrder(10)] public byte[]? LeaseKey { get; set; }
    /// <summary>Set on <see cref="EntryKind.LimitsSet"/>: the whole queue's limits (each partition enforces its share).</summary>
    [MemoryPackOrder(11)] public LimitsRecord? Limits { get; set; }

    public static BatchEntry Of(EntryKind kind, long seq = 0, int attempt = 0, long atMs = 0, string? reason = null) =>
        new() { Kind = kind, Seq = seq, Attempt = attempt, AtMs = atMs, Reason = reason };
}

/// <summary>A task as enqueued. <see cref="Seq"/> is a packed <see cref="TaskSeq"/>, <c>counter &lt;&lt; 4 | priority</c>.</summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class TaskRecord
{
    [MemoryPackOrder(0)] public long Seq { get; set; }
    [MemoryPackOrder(1)] public byte[] Payload { get; set; } = [];
    [MemoryPackOrder(2)] public Dictionary<string, string>? Headers { get; set; }
    [MemoryPackOrder(3)] public long EnqueuedAtMs { get; set; }
    [MemoryPackOrder(4)] public long RunAtMs { get; set; }
    [MemoryPackOrder(5)] public int MaxAttempts { get; set; }
    [MemoryPackOrder(6)] public string? IdempotencyKey { get; set; }
    /// <summary>See <see cref="Conduit.Protocol.TaskSpec.ConcurrencyKey"/>.</summary>
    [MemoryPackOrder(7)] public string? ConcurrencyKey { get; set; }

    [MemoryPackIgnore] public long Counter => new TaskSeq(Seq).Counter;
    [MemoryPackIgnore] public int Priority => new TaskSeq(Seq).Priority;
    [MemoryPackIgnore] public bool IsScheduled => RunAtMs > EnqueuedAtMs;
}

public enum TaskState : byte
{
    Scheduled = 1,
    Running = 2,
    Failed = 3,
    Dead = 4,
}

/// <summary>
/// A task that is not plain "ready and never delivered": scheduled, running, failed awaiting retry, or dead.
/// The partition keeps these in memory without their payload; the payload stays in event <see cref="EventSeqNr"/>.
/// </summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class TaskEntry
{
    [MemoryPackOrder(0)] public long Seq { get; set; }
    [MemoryPackOrder(1)] public long EventSeqNr { get; set; }
    [MemoryPackOrder(2)] public TaskState State { get; set; }
    [MemoryPackOrder(3)] public int Attempt { get; set; }
    [MemoryPackOrder(4)] public int MaxAttempts { get; set; }
    [MemoryPackOrder(5)] public long RunAtMs { get; set; }
    [MemoryPackOrder(6)] public long EnqueuedAtMs { get; set; }
    [MemoryPackOrder(7)] public long UpdatedAtMs { get; set; }
    [MemoryPackOrder(8)] public string? Reason { get; set; }
    /// <summary>While running: the nonce and owner epoch of the delivery (see <see cref="BatchEntry.Nonce"/>).</summary>
    [MemoryPackOrder(9)] public long Nonce { get; set; }
    [MemoryPackOrder(10)] public long DispatchEpoch { get; set; }
    /// <summary>The task's concurrency key (known once it was scheduled or delivered; see <see cref="TaskRecord.ConcurrencyKey"/>).</summary>
    [MemoryPackOrder(11)] public string? ConcurrencyKey { get; set; }

    [MemoryPackIgnore] public long Counter => new TaskSeq(Seq).Counter;
    [MemoryPackIgnore] public int Priority => new TaskSeq(Seq).Priority;
}

/// <summary>
/// What a snapshot holds: the durable state of a partition without any payload (see docs/backlog-paging.md).
/// </summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class PartitionSnapshot : IConduitEvent
{
    [MemoryPackOrder(0)] public long Epoch { get; set; }
    [MemoryPackOrder(1)] public bool Paused { get; set; }
    [MemoryPackOrder(2)] public long NextCounter { get; set; }
    /// <summary>Settled counters as [start, end) pairs.</summary>
    [MemoryPackOrder(3)] public long[] Settled { get; set; } = [];
    [MemoryPackOrder(4)] public TaskEntry[] Exceptions { get; set; } = [];
    [MemoryPackOrder(5)] public long[] FreshCount { get; set; } = [];
    /// <summary>(first counter, event sequence number) pairs of the events that carry enqueues.</summary>
    [MemoryPackOrder(6)] public long[] EventIndex { get; set; } = [];
    [MemoryPackOrder(7)] public string[] IdempotencyKeys { get; set; } = [];
    [MemoryPackOrder(8)] public long[] IdempotencySeqs { get; set; } = [];
    [MemoryPackOrder(9)] public long[] IdempotencyAtMs { get; set; } = [];
    [MemoryPackOrder(10)] public long[] RecentlyCancelled { get; set; } = [];
    /// <summary>The partition's lease key (see <see cref="BatchEntry.LeaseKey"/>).</summary>
    [MemoryPackOrder(11)] public byte[]? LeaseKey { get; set; }
    /// <summary>The queue's dispatch limits (see <see cref="BatchEntry.Limits"/>); null: none.</summary>
    [MemoryPackOrder(12)] public LimitsRecord? Limits { get; set; }
}

/// <summary>A queue's dispatch limits as the journal keeps them (<see cref="Conduit.Protocol.QueueLimits"/>; 0: no limit).</summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class LimitsRecord
{
    [MemoryPackOrder(0)] public double RatePerSecond { get; set; }
    [MemoryPackOrder(1)] public int Burst { get; set; }
    [MemoryPackOrder(2)] public int MaxRunning { get; set; }
    [MemoryPackOrder(3)] public int MaxRunningPerKey { get; set; }

    public static LimitsRecord? Of(QueueLimits? limits) =>
        limits is null || limits.IsNone ? null
            : new() { RatePerSecond = limits.RatePerSecond, Burst = limits.Burst, MaxRunning = limits.MaxRunning, MaxRunningPerKey = limits.MaxRunningPerKey };

    public QueueLimits ToLimits() => new(RatePerSecond, Burst, MaxRunning, MaxRunningPerKey);
}
