using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

/// <summary>A task in memory with its payload, ready to hand out.</summary>
/// <param name="Attempt">Deliveries made so far.</param>
internal sealed record ReadyTask(TaskRecord Task, int Attempt, int MaxAttempts, long EventSeqNr)
{
    public long Seq => Task.Seq;
    public int Priority => Task.Priority;
}

/// <summary>
/// The bounded in-memory window of ready tasks, ordered by priority (highest first), then age (lowest counter
/// first), plus, per priority, where paging stands: tasks of priority p with counter above
/// <see cref="LoadedUpTo"/> are still only in the journal (<see cref="NotLoaded"/> of them are fresh).
/// </summary>
internal sealed class ReadyWindow
{
    private static readonly Comparer<ReadyTask> Order = Comparer<ReadyTask>.Create((a, b) =>
    {
        var byPriority = b.Priority.CompareTo(a.Priority);
        return byPriority != 0 ? byPriority : a.Task.Counter.CompareTo(b.Task.Counter);
    });

    private readonly SortedSet<ReadyTask> _tasks = new(Order);
    private readonly Dictionary<long, ReadyTask> _bySeq = new();

    public long[] LoadedUpTo { get; } = new long[DurablePartitionState.PriorityLevels];
    public long[] ScanFrom { get; } = new long[DurablePartitionState.PriorityLevels];
    public long[] NotLoaded { get; } = new long[DurablePartitionState.PriorityLevels];

    public int Count => _tasks.Count;
    public ReadyTask? Best => _tasks.Count == 0 ? null : _tasks.Min;
    public IEnumerable<ReadyTask> Tasks => _tasks;

    /// <summary>The highest priority with fresh tasks still in the journal, or -1.</summary>
    public int HighestNotLoaded()
    {
        for (var p = NotLoaded.Length - 1; p >= 0; p--)
            if (NotLoaded[p] > 0) return p;
        return -1;
    }

    public bool Contains(long seq) => _bySeq.ContainsKey(seq);

    public void Add(ReadyTask task)
    {
        if (_bySeq.TryAdd(task.Seq, task)) _tasks.Add(task);
    }

    public bool Remove(long seq)
    {
        if (!_bySeq.Remove(seq, out var task)) return false;
        _tasks.Remove(task);
        return true;
    }

    public ReadyTask TakeBest()
    {
        var best = _tasks.Min!;
        _tasks.Remove(best);
        _bySeq.Remove(best.Seq);
        return best;
    }

    /// <summary>Is <paramref name="seq"/> a fresh task that paging has not reached yet?</summary>
    public bool IsNotLoaded(long seq)
    {
        var task = new TaskSeq(seq);
        return task.Counter > LoadedUpTo[task.Priority];
    }

    /// <summary>Drops every task below <paramref name="counter"/> and forgets the journal's fresh backlog (after a purge).</summary>
    public void PurgeBelow(long counter)
    {
        foreach (var t in _tasks.Where(t => t.Task.Counter < counter).ToList()) Remove(t.Seq);
        Array.Clear(NotLoaded);
    }
}
