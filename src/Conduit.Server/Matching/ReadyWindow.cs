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
/// <para>
/// Tasks whose concurrency key has as many tasks running as the queue allows are <b>parked</b> out of the line
/// (<see cref="Park"/>), in order per key, so dispatch never looks at them again until a lease of their key ends
/// (<see cref="Unpark"/>). They are still in the window (<see cref="Contains"/>, <see cref="Remove"/>,
/// <see cref="Total"/>) but not in <see cref="Count"/> or <see cref="Best"/>.
/// </para>
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
    /// <summary>Tasks out of line per concurrency key; made when the first is parked (most queues use no keys).</summary>
    private Dictionary<string, SortedSet<ReadyTask>>? _parked;

    public long[] LoadedUpTo { get; } = new long[DurablePartitionState.PriorityLevels];
    public long[] ScanFrom { get; } = new long[DurablePartitionState.PriorityLevels];
    public long[] NotLoaded { get; } = new long[DurablePartitionState.PriorityLevels];

    /// <summary>Tasks in line to be handed out (not parked).</summary>
    public int Count => _tasks.Count;
    /// <summary>Tasks waiting for their concurrency key.</summary>
    public int ParkedCount { get; private set; }
    /// <summary>Every task in memory: in line and parked.</summary>
    public int Total => _bySeq.Count;
    public ReadyTask? Best => _tasks.Count == 0 ? null : _tasks.Min;
    /// <summary>Every task in memory, in no particular order.</summary>
    public IEnumerable<ReadyTask> Tasks => _bySeq.Values;

    /// <summary>The highest priority with fresh tasks still in the journal, or -1.</summary>
    public int HighestNotLoaded()
    {
        for (var p = NotLoaded.Length - 1; p >= 0; p--)
            if (NotLoaded[p] > 0) return p;
        return -1;
    }

    public bool Contains(long seq) => _bySeq.ContainsKey(seq);

    public bool TryGet(long seq, out ReadyTask task) => _bySeq.TryGetValue(seq, out task!);

    public void Add(ReadyTask task)
    {
        if (_bySeq.TryAdd(task.Seq, task)) _tasks.Add(task);
    }

    /// <summary>
    /// Takes a task out (cancelled, purged). A task of a key taken out of line hands its place to the key's next parked
    /// task: only a task in line or a lease ending lets parked tasks go, so otherwise they would wait for nothing
    /// (dispatch parks it again if its key is still full).
    /// </summary>
    public bool Remove(long seq)
    {
        if (!_bySeq.Remove(seq, out var task)) return false;
        var key = task.Task.ConcurrencyKey;
        if (_tasks.Remove(task))
        {
            if (key is not null) Unpark(key, 1);
        }
        else if (key is not null && _parked is not null && _parked.TryGetValue(key, out var parked) && parked.Remove(task))
        {
            ParkedCount--;
            if (parked.Count == 0) _parked.Remove(key);
        }
        return true;
    }

    /// <summary>Takes <paramref name="task"/> (in line, with a concurrency key) out of the line until <see cref="Unpark"/> lets its key go.</summary>
    public void Park(ReadyTask task)
    {
        if (task.Task.ConcurrencyKey is not { } key || !_tasks.Remove(task)) return;
        _parked ??= new(StringComparer.Ordinal);
        if (!_parked.TryGetValue(key, out var parked)) _parked[key] = parked = new SortedSet<ReadyTask>(Order);
        parked.Add(task);
        ParkedCount++;
    }

    /// <summary>Puts up to <paramref name="slots"/> of the tasks parked for <paramref name="key"/> back in line, best first.</summary>
    public void Unpark(string key, int slots)
    {
        if (slots <= 0 || _parked is null || !_parked.TryGetValue(key, out var parked)) return;
        while (slots-- > 0 && parked.Count > 0)
        {
            var next = parked.Min!;
            parked.Remove(next);
            ParkedCount--;
            _tasks.Add(next);
        }
        if (parked.Count == 0) _parked.Remove(key);
    }

    /// <summary>Puts every parked task back in line (the per-key limit changed; dispatch parks again what must wait).</summary>
    public void UnparkAll()
    {
        if (_parked is null) return;
        foreach (var parked in _parked.Values) _tasks.UnionWith(parked);
        _parked.Clear();
        ParkedCount = 0;
    }

    public ReadyTask TakeBest()
    {
        var best = _tasks.Min!;
        _tasks.Remove(best);
        _bySeq.Remove(best.Seq);
        return best;
    }

    /// <summary>
    /// The partition went idle: an empty window gives back its index's storage (sized for up to
    /// <see cref="PartitionOptions.ReadyWindow"/> tasks once it was full; about 30 KiB for a window of 1,000).
    /// </summary>
    public void Release()
    {
        if (_bySeq.Count == 0) _bySeq.TrimExcess();
    }

    /// <summary>How many tasks the window's index has room for now (tests).</summary>
    internal int IndexCapacity => _bySeq.EnsureCapacity(0);

    /// <summary>Is <paramref name="seq"/> a fresh task that paging has not reached yet?</summary>
    public bool IsNotLoaded(long seq)
    {
        var task = new TaskSeq(seq);
        return task.Counter > LoadedUpTo[task.Priority];
    }

    /// <summary>Drops every task below <paramref name="counter"/> and forgets the journal's fresh backlog (after a purge).</summary>
    public void PurgeBelow(long counter)
    {
        foreach (var t in _bySeq.Values.Where(t => t.Task.Counter < counter).ToList()) Remove(t.Seq);
        Array.Clear(NotLoaded);
    }
}
