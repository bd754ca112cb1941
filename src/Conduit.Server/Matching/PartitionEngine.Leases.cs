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
        foreach (var text in release.LeaseTokens ?? [])
        {
            if (!LeaseToken.TryParse(text, out var token) || token.Task.Partition != _id || !_signer.Verify(text)) continue;
            if (!_leases.TryGet(token.Task.Seq, out var lease) || !lease.IsNamedBy(token)) continue;
            _leases.Remove(lease.Seq);
            if (!lease.CancelRequested) entries.Add(BatchEntry.Of(EntryKind.Retried, lease.Seq, lease.Attempt - 1, now));
        }
        _limits.Refund(entries.Count);
        Append(entries.ToArray(), replyTo, new Released(entries.Count));
    }

    private void HandleHeartbeat(object replyTo, Heartbeat heartbeat)
    {
        if (ResolveLease(replyTo, heartbeat.LeaseToken) is not { } lease) return;
        lease.ExpiresAtMs = _now() + lease.LeaseMs;
        _fx.Reply(replyTo, new HeartbeatAck(lease.ExpiresAtMs, lease.CancelRequested));
    }

    private void HandleComplete(object replyTo, Complete complete)
    {
        if (complete.MoreLeaseTokens is { Length: > 0 } more) { HandleCompleteBatch(replyTo, complete.LeaseToken, more); return; }
        if (ResolveLease(replyTo, complete.LeaseToken) is not { } lease) return;
        if (TakeForCompletion(lease, _now()) is { } refused) { _fx.Reply(replyTo, refused); return; }
        Append([BatchEntry.Of(EntryKind.Completed, lease.Seq)], replyTo, new Completed(TaskIdOf(lease.Seq)));
    }

    /// <summary>A worker completes the tasks of a whole poll at once: one request, one append, one answer.</summary>
    private void HandleCompleteBatch(object replyTo, string? first, string[] more)
    {
        if (TaskSpecRules.CheckIdCount(more.Length + 1, "lease tokens") is { } tooMany) { _fx.Reply(replyTo, tooMany); return; }
        var refusals = new Rejected?[more.Length + 1];
        var entries = new List<BatchEntry>(refusals.Length);
        var now = _now();
        for (var i = 0; i < refusals.Length; i++)
        {
            var lease = TryResolveLease(i == 0 ? first : more[i - 1], out var why);
            refusals[i] = lease is null ? why : TakeForCompletion(lease, now);
            if (refusals[i] is null) entries.Add(BatchEntry.Of(EntryKind.Completed, lease!.Seq));
        }
        if (entries.Count == 0) _fx.Reply(replyTo, new CompletedBatch(refusals));
        else Append(entries.ToArray(), replyTo, new CompletedBatch(refusals));
    }

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
        Append([entry], replyTo, new Failed(TaskIdOf(lease.Seq), next, next == TaskStatus.Failed ? entry.AtMs : 0));
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
        foreach (var lease in expired)
            if (!lease.CancelRequested) entries.Add(FailureEntry(lease, "lease expired", retryable: true, now));
        _stats.Count(PartitionCounter.LeaseExpired, entries.Count);
        if (entries.Count > 0) Append(entries.ToArray(), null, null);
    }
}
