using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

/// <summary>
/// The durable state of one partition: what the journal says, and nothing that only lives while the partition
/// runs. It changes only through <see cref="Apply"/>, called with each event once it is durable (live) or
/// replayed (recovery), so both paths build the same state. It never holds a payload.
/// <para>
/// Every task is in exactly one of: <b>fresh</b> (ready and never delivered; counted in <see cref="FreshCount"/>),
/// an <b>exception</b> (scheduled, running, failed awaiting retry, dead; in <see cref="Exceptions"/>), or
/// <b>settled</b> (completed, cancelled, purged; in <see cref="Settled"/>). Exceptions win over settled
/// (a purge settles a range in which running tasks stay running).
/// </para>
/// </summary>
internal sealed class DurablePartitionState
{
    public const int PriorityLevels = TaskSpec.MaxPriority + 1;
    private const int RecentlyCancelledLimit = 10_000;

    public long Epoch { get; private set; }
    /// <summary>The key lease tokens are authenticated with: made by the partition's first owner, kept in the journal and snapshots. Null before the first epoch.</summary>
    public byte[]? LeaseKey { get; private set; }
    public bool Paused { get; private set; }
    /// <summary>The queue's dispatch limits (each partition enforces its share: <see cref="DispatchLimits"/>); null: none.</summary>
    public LimitsRecord? Limits { get; private set; }
    /// <summary>The counter the next enqueued task gets. Counters start at 1.</summary>
    public long NextCounter { get; private set; } = 1;
    public long LastEventSeqNr { get; private set; }
    public CounterSet Settled { get; private set; } = new();
    public Dictionary<long, TaskEntry> Exceptions { get; } = new();
    public long[] FreshCount { get; } = new long[PriorityLevels];
    public Dictionary<string, (long Seq, long AtMs)> IdempotencyKeys { get; } = new(StringComparer.Ordinal);

    private readonly long[] _exceptionCounts = new long[5];

    /// <summary>How many exceptions are in <paramref name="state"/>, without walking them.</summary>
    public long CountOf(TaskState state) => _exceptionCounts[(int)state];

    private readonly List<(long Counter, long EventSeqNr)> _eventIndex = [];
    // Made with the first cancel: most partitions never see one.
    private Queue<long>? _recentlyCancelledOrder;
    private HashSet<long>? _recentlyCancelled;

    public long TotalFresh
    {
        get { long n = 0; foreach (var c in FreshCount) n += c; return n; }
    }

    public bool IsFresh(long seq)
    {
        var counter = new TaskSeq(seq).Counter;
        return counter < NextCounter && !Exceptions.ContainsKey(seq) && !Settled.Contains(counter);
    }

    /// <summary>The journal event that holds the task with <paramref name="counter"/>, or 0 when it is not indexed.</summary>
    public long EventOf(long counter)
    {
        int lo = 0, hi = _eventIndex.Count - 1;
        long found = 0;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_eventIndex[mid].Counter <= counter) { found = _eventIndex[mid].EventSeqNr; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    public TaskStatus? StatusOf(long seq, long nowMs)
    {
        var counter = new TaskSeq(seq).Counter;
        if (counter <= 0 || counter >= NextCounter) return null;
        if (Exceptions.TryGetValue(seq, out var e))
        {
            return e.State switch
            {
                TaskState.Scheduled => e.RunAtMs <= nowMs ? TaskStatus.Ready : TaskStatus.Scheduled,
                TaskState.Failed => e.RunAtMs <= nowMs ? TaskStatus.Ready : TaskStatus.Failed,
                TaskState.Running => TaskStatus.Running,
                _ => TaskStatus.DeadLettered,
            };
        }
        if (Settled.Contains(counter)) return _recentlyCancelled?.Contains(seq) == true ? TaskStatus.Cancelled : TaskStatus.Completed;
        return TaskStatus.Ready;
    }

    /// <summary>The lowest counter of a fresh task (not settled, not an exception), or <see cref="NextCounter"/> when there is none.</summary>
    public long FirstFreshCounter()
    {
        var counter = Settled.FirstMissingFrom(1);
        while (counter < NextCounter && IsExceptionCounter(counter)) counter = Settled.FirstMissingFrom(counter + 1);
        return counter;
    }

    private bool IsExceptionCounter(long counter)
    {
        for (var p = 0; p < PriorityLevels; p++)
            if (Exceptions.ContainsKey(TaskSeq.Of(counter, p).Value)) return true;
        return false;
    }

    /// <summary>
    /// The oldest journal event anything still needs: the one holding the oldest fresh task, or an exception's own
    /// event (moved forward by <see cref="EntryKind.Relocated"/>), whichever is lower. 0 when nothing is unsettled.
    /// </summary>
    public long OldestNeededEvent()
    {
        var oldest = long.MaxValue;
        var fresh = FirstFreshCounter();
        if (fresh < NextCounter) oldest = EventOf(fresh);
        foreach (var e in Exceptions.Values)
            if (e.EventSeqNr < oldest) oldest = e.EventSeqNr;
        return oldest == long.MaxValue ? 0 : oldest;
    }

    public void Apply(PartitionBatch batch, long eventSeqNr)
    {
        LastEventSeqNr = eventSeqNr;
        var indexed = false;
        foreach (var entry in batch.Entries)
        {
            switch (entry.Kind)
            {
                case EntryKind.Enqueued:
                    var task = entry.Task!;
                    if (!indexed) { _eventIndex.Add((task.Counter, eventSeqNr)); indexed = true; }
                    ApplyEnqueued(task, eventSeqNr);
                    break;
                case EntryKind.Dispatched:
                    SetException(entry.Seq, TaskState.Running, entry.Attempt, 0, null, 0, entry);
                    break;
                case EntryKind.Retried:
                    SetException(entry.Seq, TaskState.Failed, entry.Attempt, entry.AtMs, entry.Reason, entry.AtMs);
                    break;
                case EntryKind.DeadLettered:
                    SetException(entry.Seq, TaskState.Dead, entry.Attempt, 0, entry.Reason, entry.AtMs);
                    break;
                case EntryKind.Requeued:
                    SetException(entry.Seq, TaskState.Failed, 0, entry.AtMs, null, entry.AtMs);
                    break;
                case EntryKind.Completed:
                    Settle(entry.Seq);
                    break;
                case EntryKind.Cancelled:
                    Settle(entry.Seq);
                    RememberCancelled(entry.Seq);
                    break;
                case EntryKind.Purged:
                    ApplyPurge(entry.AtMs);
                    break;
                case EntryKind.Paused:
                    Paused = true;
                    break;
                case EntryKind.Resumed:
                    Paused = false;
                    break;
                case EntryKind.LimitsSet:
                    Limits = entry.Limits;
                    break;
                case EntryKind.OwnerEpochStarted:
                    Epoch = entry.AtMs;
                    if (LeaseKey is null && entry.LeaseKey is { Length: > 0 } key) LeaseKey = key;
                    break;
                case EntryKind.Relocated:
                    if (Exceptions.TryGetValue(entry.Seq, out var moved)) moved.EventSeqNr = eventSeqNr;
                    break;
            }
        }
    }

    private void ApplyEnqueued(TaskRecord task, long eventSeqNr)
    {
        NextCounter = Math.Max(NextCounter, task.Counter + 1);
        if (task.IdempotencyKey is { } key) IdempotencyKeys[key] = (task.Seq, task.EnqueuedAtMs);
        if (task.IsScheduled)
        {
            _exceptionCounts[(int)TaskState.Scheduled]++;
            Exceptions[task.Seq] = new TaskEntry
            {
                Seq = task.Seq, EventSeqNr = eventSeqNr, State = TaskState.Scheduled, MaxAttempts = task.MaxAttempts,
                RunAtMs = task.RunAtMs, EnqueuedAtMs = task.EnqueuedAtMs, UpdatedAtMs = task.EnqueuedAtMs,
                ConcurrencyKey = task.ConcurrencyKey,
            };
        }
        else
        {
            FreshCount[task.Priority]++;
        }
    }

    /// <summary>Moves a task into an exception state. A fresh task's entry is made from the event index.</summary>
    private void SetException(long seq, TaskState state, int attempt, long runAtMs, string? reason, long updatedAtMs, BatchEntry? dispatch = null)
    {
        if (!Exceptions.TryGetValue(seq, out var e))
        {
            var counter = new TaskSeq(seq).Counter;
            if (counter >= NextCounter || Settled.Contains(counter)) return; // nothing to move (double or stale change)
            FreshCount[new TaskSeq(seq).Priority]--;
            e = new TaskEntry
            {
                Seq = seq, EventSeqNr = EventOf(counter), MaxAttempts = dispatch?.MaxAttempts ?? 0,
                EnqueuedAtMs = dispatch?.EnqueuedAtMs ?? 0,
            };
            Exceptions[seq] = e;
        }
        else
        {
            _exceptionCounts[(int)e.State]--;
        }
        _exceptionCounts[(int)state]++;
        e.State = state;
        e.Attempt = attempt;
        e.RunAtMs = runAtMs;
        e.Reason = reason ?? e.Reason;
        if (updatedAtMs != 0) e.UpdatedAtMs = updatedAtMs;
        // A dispatch hint is written by the owner of the epoch in force when it is applied (a stale owner's writes are
        // fenced off), so its epoch is not stored in the entry.
        (e.Nonce, e.DispatchEpoch) = state == TaskState.Running && dispatch is not null ? (dispatch.Nonce, Epoch) : (0, 0);
        if (dispatch?.Reason is { } key) e.ConcurrencyKey = key; // a dispatch hint's Reason is the task's concurrency key
    }

    private void Settle(long seq)
    {
        var counter = new TaskSeq(seq).Counter;
        if (Exceptions.Remove(seq, out var removed))
        {
            _exceptionCounts[(int)removed.State]--;
        }
        else
        {
            if (counter >= NextCounter || Settled.Contains(counter)) return;
            var p = new TaskSeq(seq).Priority;
            FreshCount[p] = Math.Max(0, FreshCount[p] - 1);
        }
        Settled.Add(counter);
    }

    private void ApplyPurge(long belowCounter)
    {
        // Fresh tasks are all below the watermark: the purge was decided after every enqueue before it.
        Array.Clear(FreshCount);
        foreach (var (seq, e) in Exceptions.ToArray())
            if (e.Counter < belowCounter && e.State != TaskState.Running && Exceptions.Remove(seq)) _exceptionCounts[(int)e.State]--;
        Settled.AddRange(1, belowCounter);
    }

    private void RememberCancelled(long seq)
    {
        if (!(_recentlyCancelled ??= []).Add(seq)) return;
        (_recentlyCancelledOrder ??= new()).Enqueue(seq);
        while (_recentlyCancelledOrder.Count > RecentlyCancelledLimit)
            _recentlyCancelled.Remove(_recentlyCancelledOrder.Dequeue());
    }

    /// <summary>
    /// Forgets event index entries below the oldest fresh task (only fresh tasks are found through the index;
    /// exceptions carry their own event) and idempotency keys older than the retention whose own task is settled
    /// (each key by itself: one task left unsettled, say a dead letter, keeps only its own key).
    /// </summary>
    public void Prune(long idempotencyCutoffMs)
    {
        var firstFresh = FirstFreshCounter();
        var keep = 0;
        while (keep + 1 < _eventIndex.Count && _eventIndex[keep + 1].Counter <= firstFresh) keep++;
        if (keep > 0) _eventIndex.RemoveRange(0, keep);
        foreach (var (key, (seq, at)) in IdempotencyKeys.ToArray())
            if (at < idempotencyCutoffMs && Settled.Contains(new TaskSeq(seq).Counter) && !Exceptions.ContainsKey(seq)) IdempotencyKeys.Remove(key);
    }

    public PartitionSnapshot ToSnapshot()
    {
        var keys = IdempotencyKeys.ToArray();
        return new PartitionSnapshot
        {
            Epoch = Epoch,
            Paused = Paused,
            NextCounter = NextCounter,
            Settled = Settled.ToPairs(),
            Exceptions = Exceptions.Values.Select(Clone).ToArray(),
            FreshCount = (long[])FreshCount.Clone(),
            EventIndex = _eventIndex.SelectMany(e => new[] { e.Counter, e.EventSeqNr }).ToArray(),
            IdempotencyKeys = keys.Select(k => k.Key).ToArray(),
            IdempotencySeqs = keys.Select(k => k.Value.Seq).ToArray(),
            IdempotencyAtMs = keys.Select(k => k.Value.AtMs).ToArray(),
            RecentlyCancelled = _recentlyCancelledOrder?.ToArray() ?? [],
            LeaseKey = LeaseKey,
            Limits = Limits,
        };
    }

    public static DurablePartitionState FromSnapshot(PartitionSnapshot s, long snapshotSeqNr)
    {
        var state = new DurablePartitionState
        {
            Epoch = s.Epoch, Paused = s.Paused, NextCounter = s.NextCounter, LastEventSeqNr = snapshotSeqNr,
            Settled = CounterSet.FromPairs(s.Settled), LeaseKey = s.LeaseKey is { Length: > 0 } key ? key : null,
            Limits = s.Limits,
        };
        foreach (var e in s.Exceptions)
        {
            state.Exceptions[e.Seq] = e;
            state._exceptionCounts[(int)e.State]++;
        }
        Array.Copy(s.FreshCount, state.FreshCount, Math.Min(s.FreshCount.Length, state.FreshCount.Length));
        for (var i = 0; i + 1 < s.EventIndex.Length; i += 2) state._eventIndex.Add((s.EventIndex[i], s.EventIndex[i + 1]));
        for (var i = 0; i < s.IdempotencyKeys.Length; i++)
            state.IdempotencyKeys[s.IdempotencyKeys[i]] = (s.IdempotencySeqs[i], s.IdempotencyAtMs[i]);
        foreach (var seq in s.RecentlyCancelled) state.RememberCancelled(seq);
        return state;
    }

    private static TaskEntry Clone(TaskEntry e) => new()
    {
        Seq = e.Seq, EventSeqNr = e.EventSeqNr, State = e.State, Attempt = e.Attempt, MaxAttempts = e.MaxAttempts,
        RunAtMs = e.RunAtMs, EnqueuedAtMs = e.EnqueuedAtMs, UpdatedAtMs = e.UpdatedAtMs, Reason = e.Reason,
        Nonce = e.Nonce, DispatchEpoch = e.DispatchEpoch, ConcurrencyKey = e.ConcurrencyKey,
    };
}
