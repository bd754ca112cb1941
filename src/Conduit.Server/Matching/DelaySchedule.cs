namespace Conduit.Server.Matching;

/// <summary>
/// When delayed tasks (scheduled ahead, or failed and waiting to be retried) become ready: each waits by its run time
/// until that time is reached, and is then <b>due</b> until its payload has been fetched from the journal into the
/// ready window. Entries are not withdrawn when a task changes meanwhile (runs, settles, is rescheduled): whoever
/// takes an entry whose time has come checks that it still stands before marking the task due.
/// </summary>
internal sealed class DelaySchedule
{
    // Made with the first delayed task: most queues never delay one.
    private PriorityQueue<long, long>? _waiting;
    private HashSet<long>? _due;

    /// <summary>Entries still waiting for their time, stale ones included.</summary>
    public int WaitingCount => _waiting?.Count ?? 0;

    /// <summary>Tasks whose time has come and whose payload is still to be fetched.</summary>
    public int DueCount => _due?.Count ?? 0;

    public IReadOnlyCollection<long> Due => (IReadOnlyCollection<long>?)_due ?? [];

    /// <summary>Task <paramref name="seq"/> runs at <paramref name="runAtMs"/>.</summary>
    public void Add(long seq, long runAtMs) => (_waiting ??= new()).Enqueue(seq, runAtMs);

    /// <summary>Takes the earliest entry whose time is at or before <paramref name="nowMs"/>, if any.</summary>
    public bool TryTakeReached(long nowMs, out long seq, out long runAtMs)
    {
        seq = runAtMs = 0;
        if (_waiting is not null && _waiting.TryPeek(out seq, out runAtMs) && runAtMs <= nowMs)
        {
            _waiting.Dequeue();
            return true;
        }
        return false;
    }

    public void MarkDue(long seq) => (_due ??= []).Add(seq);
    public bool IsDue(long seq) => _due?.Contains(seq) == true;
    public bool RemoveDue(long seq) => _due?.Remove(seq) == true;
    public void ClearDue() => _due?.Clear();

    /// <summary>Forgets the due tasks with a counter below <paramref name="counter"/> (a purge removed them).</summary>
    public void RemoveDueBelow(long counter) => _due?.RemoveWhere(seq => new TaskSeq(seq).Counter < counter);
}
