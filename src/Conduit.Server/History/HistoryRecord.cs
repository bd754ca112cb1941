namespace Conduit.Server.History;

/// <summary>What the task history is told, in the order it happened (docs/results.md).</summary>
internal enum HistoryChange : byte
{
    /// <summary>Delivery <see cref="HistoryRecord.Attempt"/> started; it brings the payload and enqueue time.</summary>
    Started = 1,
    /// <summary>Delivery <see cref="HistoryRecord.Attempt"/> ended without settling the task (failed or expired; a retry follows).</summary>
    AttemptEnded = 2,
    /// <summary>The task is settled as <see cref="HistoryRecord.Status"/> (completed, dead-lettered or cancelled), its delivery (if any) with it.</summary>
    Finished = 3,
    /// <summary>Delivery <see cref="HistoryRecord.Attempt"/> went back undelivered (a prefetched task that did not start): it is not running, and its number is used again.</summary>
    Released = 4,
    /// <summary>A dead letter went back to its queue with fresh attempts: live again, no finish time, no result.</summary>
    Requeued = 5,
}

/// <summary>One change of one task for the task history (folded with the task's other changes of a write into one row upsert, <see cref="TaskRowChange"/>).</summary>
/// <param name="TaskId">The task's id (<c>ns/queue#p:seq</c>): namespace and queue are in it and kept beside it.</param>
/// <param name="Attempt">The delivery it is about (1 for the first); 0 for a task settled without one (cancelled while waiting).</param>
/// <param name="AtMs">When it happened (Unix ms): an attempt's start or end, the task's settlement.</param>
/// <param name="Outcome">How the delivery ended (not for <see cref="HistoryChange.Started"/>).</param>
/// <param name="Reason">Why it failed, as the worker said (bounded by the partition; the history keeps <see cref="TaskRowChange.MaxReasonChars"/>, base64-encoded).</param>
/// <param name="Status">The final state (<see cref="HistoryChange.Finished"/> only).</param>
/// <param name="Payload">The task's payload, given with its first delivery.</param>
/// <param name="Output">The result its worker completed it with.</param>
/// <param name="StartedAtMs">The delivery's start, when it ends (0: not known, as after a failover).</param>
/// <param name="Epoch">The owner epoch of the partition incarnation that made it: a change from an older incarnation (a write retried on a node the partition has left) never overrides a newer one's.</param>
/// <param name="Worker">The worker of the delivery it is about (<see cref="Poll.Worker"/>), when it said.</param>
/// <param name="ReplyIndex">Which lease of its request it is about (a batch completion's), so a lost result is reported for that lease alone.</param>
internal sealed record HistoryRecord(
    HistoryChange Change,
    string TaskId,
    string Namespace,
    string Queue,
    int Attempt,
    long AtMs,
    AttemptOutcome Outcome = AttemptOutcome.Running,
    string? Reason = null,
    TaskStatus Status = 0,
    byte[]? Payload = null,
    byte[]? Output = null,
    long EnqueuedAtMs = 0,
    long StartedAtMs = 0,
    long Epoch = 0,
    int ReplyIndex = 0,
    string? Worker = null)
{
    /// <summary>Bytes it holds in memory until written, roughly: what bounds the writer's buffer.</summary>
    public long Bytes => 200 + TaskId.Length * 2 + (Reason?.Length ?? 0) * 2 + (Payload?.Length ?? 0) + (Output?.Length ?? 0) + (Worker?.Length ?? 0) * 2;
}
