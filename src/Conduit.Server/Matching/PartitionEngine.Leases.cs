using Conduit.Server.History;
using Conduit.Server.Metrics;
using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

// Leases: heartbeat, complete, fail, release, and what happens when a lease runs out.
internal sealed partial class PartitionEngine
{
    /// <summary>Takes back leased tasks that were never handed to a worker; they are ready again at once, with the attempt not used up.</summary>
    private void HandleRelease(object replyTo, ReleaseTasks release)
    {
        if (TaskSpecRules.CheckIdCount(release.LeaseTokens?.Length ?? 0, "lease tokens") is { } tooMany) { _fx.Reply(replyTo, tooMany); return; }
        var now = _now();
        var entries = new List<BatchEntry>();
        var history = _fx.KeepsHistory ? new List<HistoryRecord>() : null;
        foreach (var text in release.LeaseTokens ?? [])
        {
            if (!LeaseToken.TryParse(text, out var token) || token.Task.Partition != _id || !_signer.Verify(text)) continue;
            if (!_leases.TryGet(token.Task.Seq, out var lease) || !lease.IsNamedBy(token)) continue;
            _leases.Remove(lease.Seq);
            if (lease.CancelRequested) continue;
            entries.Add(BatchEntry.Of(EntryKind.Retried, lease.Seq, lease.Attempt - 1, now));
            history?.Add(new HistoryRecord(HistoryChange.Released, TaskIdOf(lease.Seq), _id.Namespace, _id.Queue, lease.Attempt, now, Epoch: Durable.Epoch));
        }
        _limits.Refund(entries.Count);
        Append(entries.ToArray(), replyTo, new Released(entries.Count), history);
    }

    private void HandleHeartbeat(object replyTo, Heartbeat heartbeat)
    {
        if (ResolveLease(replyTo, heartbeat.LeaseToken) is not { } lease) return;
        lease.ExpiresAtMs = _now() + lease.LeaseMs;
        _fx.Reply(replyTo, new HeartbeatAck(lease.ExpiresAtMs, lease.CancelRequested));
    }

    private void HandleComplete(object replyTo, Complete complete)
    {
        if (complete.MoreOutputs is { } outputs && outputs.Length > (complete.MoreLeaseTokens?.Length ?? 0))
        {
            Reject(replyTo, ErrorCode.InvalidArgument, $"{outputs.Length} more results for {complete.MoreLeaseTokens?.Length ?? 0} more leases");
            return;
        }
        if (complete.MoreLeaseTokens is { Length: > 0 }) { HandleCompleteBatch(replyTo, complete); return; }
        if (ResolveLease(replyTo, complete.LeaseToken) is not { } lease) return;
        if (OutputRefusal(complete.Output) is { } tooBig) { _fx.Reply(replyTo, tooBig); return; }
        var now = _now();
        if (TakeForCompletion(lease, now) is { } refused) { _fx.Reply(replyTo, refused); return; }
        var history = _fx.KeepsHistory ? new List<HistoryRecord> { Completion(lease, now, complete.Output) } : null;
        Append([BatchEntry.Of(EntryKind.Completed, lease.Seq)], replyTo, new Completed(TaskIdOf(lease.Seq)), history);
    }

    /// <summary>A worker completes the tasks of a whole poll at once: one request, one append, one answer.</summary>
    private void HandleCompleteBatch(object replyTo, Complete complete)
    {
        var more = complete.MoreLeaseTokens!;
        if (TaskSpecRules.CheckIdCount(more.Length + 1, "lease tokens") is { } tooMany) { _fx.Reply(replyTo, tooMany); return; }
        var refusals = new Rejected?[more.Length + 1];
        var entries = new List<BatchEntry>(refusals.Length);
        var history = _fx.KeepsHistory ? new List<HistoryRecord>(refusals.Length) : null;
        var now = _now();
        for (var i = 0; i < refusals.Length; i++)
        {
            var lease = TryResolveLease(i == 0 ? complete.LeaseToken : more[i - 1], out var why);
            var output = complete.OutputOf(i);
            refusals[i] = lease is null ? why : OutputRefusal(output) ?? TakeForCompletion(lease, now);
            if (refusals[i] is not null) continue;
            entries.Add(BatchEntry.Of(EntryKind.Completed, lease!.Seq));
            history?.Add(Completion(lease, now, output) with { ReplyIndex = i });
        }
        if (entries.Count == 0) _fx.Reply(replyTo, new CompletedBatch(refusals));
        else Append(entries.ToArray(), replyTo, new CompletedBatch(refusals), history);
    }

    /// <summary>Why a result may not be kept (too large), or null.</summary>
    private static Rejected? OutputRefusal(byte[]? output) =>
        output is { Length: > Complete.MaxOutputBytes }
            ? new Rejected(ErrorCode.InvalidArgument, $"the result is {output.Length} bytes; the limit is {Complete.MaxOutputBytes}")
            : null;

    private HistoryRecord Completion(Lease lease, long now, byte[]? output) =>
        EndOf(lease, now, AttemptOutcome.Completed, TaskStatus.Completed, output: output);

    /// <summary>Takes a live lease out of dispatch for completion; null when it may complete, otherwise why not.</summary>
    private Rejected? TakeForCompletion(Lease lease, long now)
    {
        _leases.Remove(lease.Seq);
        RecordRunTime(lease, now);
        if (lease.CancelRequested) return new Rejected(ErrorCode.UnknownLease, $"task {TaskIdOf(lease.Seq)} was cancelled");
        _pending.MarkSettling(lease.Seq, TaskStatus.Completed);
        return null;
    }

    private void HandleFail(object replyTo, Fail fail)
    {
        if (fail.RetryDelayMs is < 0 or > Fail.MaxRetryDelayMs)
        {
            Reject(replyTo, ErrorCode.InvalidArgument, $"a retry delay must be 0..{Fail.MaxRetryDelayMs} ms (0: the queue's backoff), not {fail.RetryDelayMs}");
            return;
        }
        if (ResolveLease(replyTo, fail.LeaseToken) is not { } lease) return;
        _leases.Remove(lease.Seq);
        var now = _now();
        RecordRunTime(lease, now);
        if (lease.CancelRequested) { Reject(replyTo, ErrorCode.UnknownLease, $"task {TaskIdOf(lease.Seq)} was cancelled"); return; }
        _stats.Count(PartitionCounter.Failed);
        var entry = FailureEntry(lease, fail.Reason, fail.Retryable, now, fail.RetryDelayMs);
        var next = entry.Kind == EntryKind.DeadLettered ? TaskStatus.DeadLettered : TaskStatus.Failed;
        var history = _fx.KeepsHistory ? new List<HistoryRecord> { FailureOf(lease, entry, now, AttemptOutcome.Failed) } : null;
        Append([entry], replyTo, new Failed(TaskIdOf(lease.Seq), next, next == TaskStatus.Failed ? entry.AtMs : 0), history);
    }

    /// <param name="retryDelayMs">The worker's own delay before the next attempt (0: the queue's backoff).</param>
    private BatchEntry FailureEntry(Lease lease, string? reason, bool retryable, long now, long retryDelayMs = 0)
    {
        reason = reason is { Length: > MaxReasonLength } ? reason[..MaxReasonLength] : reason;
        var dead = !retryable || lease.Attempt >= lease.MaxAttempts;
        _stats.Count(dead ? PartitionCounter.DeadLettered : PartitionCounter.Retried);
        return dead
            ? BatchEntry.Of(EntryKind.DeadLettered, lease.Seq, lease.Attempt, now, reason)
            : BatchEntry.Of(EntryKind.Retried, lease.Seq, lease.Attempt,
                now + (retryDelayMs > 0 ? retryDelayMs : _o.RetryDelayMs(lease.Attempt, _random.NextDouble())), reason);
    }

    /// <summary>A delivery that ended in <paramref name="entry"/> (a retry or a dead letter), for the task history.</summary>
    private HistoryRecord FailureOf(Lease lease, BatchEntry entry, long now, AttemptOutcome outcome) =>
        EndOf(lease, now, outcome, entry.Kind == EntryKind.DeadLettered ? TaskStatus.DeadLettered : 0, entry.Reason);

    private void RecordRunTime(Lease lease, long now)
    {
        if (lease.LeasedAtMs > 0 && _stats.Metrics is { } metrics && metrics.RunDuration.Enabled)
            metrics.RunDuration.Record(Math.Max(0, now - lease.LeasedAtMs) / 1000.0);
    }

    /// <summary>The live lease a token names, or null after replying with why not.</summary>
    private Lease? ResolveLease(object replyTo, string? text)
    {
        var lease = TryResolveLease(text, out var why);
        if (lease is null) _fx.Reply(replyTo, why!);
        return lease;
    }

    /// <summary>The live lease a token names, or null and why not.</summary>
    private Lease? TryResolveLease(string? text, out Rejected? why)
    {
        why = null;
        if (!LeaseToken.TryParse(text, out var token) || token.Task.Partition != _id || !_signer.Verify(text))
        {
            why = new Rejected(ErrorCode.UnknownLease, $"'{SafeText.Escape(text, 300)}' is not a lease token this partition ({_id}) handed out");
            return null;
        }
        var seq = token.Task.Seq;
        var now = _now();
        if (!_leases.TryGet(seq, out var lease))
        {
            var (code, reason) = StatusOf(seq, now) switch
            {
                null => (ErrorCode.UnknownLease, "no such task"),
                TaskStatus.Completed => (ErrorCode.UnknownLease, "the task is already completed"),
                TaskStatus.Cancelled => (ErrorCode.UnknownLease, "the task was cancelled"),
                TaskStatus.DeadLettered => (ErrorCode.LeaseExpired, "the lease expired and the task was dead-lettered"),
                _ => (ErrorCode.LeaseExpired, "the lease expired; the task will be (or was) delivered again"),
            };
            why = new Rejected(code, $"lease for task {token.Task}: {reason}");
            return null;
        }
        if (!lease.IsNamedBy(token))
        {
            why = new Rejected(ErrorCode.LeaseExpired, $"lease for task {token.Task}: superseded by delivery {lease.Attempt}");
            return null;
        }
        if (lease.ExpiresAtMs <= now)
        {
            ExpireLeases(now);
            why = new Rejected(ErrorCode.LeaseExpired, $"lease for task {token.Task} expired");
            return null;
        }
        return lease;
    }

    private void ExpireLeases(long now)
    {
        var expired = _leases.TakeExpired(now);
        if (expired.Count == 0) return;
        var entries = new List<BatchEntry>(expired.Count);
        var history = _fx.KeepsHistory ? new List<HistoryRecord>(expired.Count) : null;
        foreach (var lease in expired)
        {
            if (lease.CancelRequested) continue;
            var entry = FailureEntry(lease, "lease expired", retryable: true, now);
            entries.Add(entry);
            history?.Add(FailureOf(lease, entry, now, AttemptOutcome.Expired));
        }
        _stats.Count(PartitionCounter.LeaseExpired, entries.Count);
        if (entries.Count > 0) Append(entries.ToArray(), null, null, history);
    }
}
