namespace Conduit.Server.Matching;

/// <summary>
/// What the partition has decided and handed to its writer but not yet been told is durable: how many entries are
/// in flight (bounded by <see cref="PartitionOptions.OutstandingWriteLimit"/>), the counters given to enqueues, the
/// idempotency keys of enqueues still being written, and the tasks being completed or cancelled. Requests are answered
/// against these decisions as well as the durable state, so a retry sees its first attempt and a task being settled is
/// not handed out again.
/// </summary>
internal sealed class PendingWrites(long nextCounter)
{
    // Made on first use: most partitions of a node are idle, and most queues use no idempotency keys.
    private Dictionary<string, long>? _keys;
    private Dictionary<long, TaskStatus>? _settling;

    /// <summary>Entries handed to the writer and not yet reported durable.</summary>
    public long Outstanding { get; private set; }

    /// <summary>The counter the next enqueue gets: ahead of the durable state's by the enqueues still being written.</summary>
    public long NextCounter { get; private set; } = nextCounter;

    public void Sent(int entries) => Outstanding += entries;

    public void Persisted(int entries) => Outstanding = Math.Max(0, Outstanding - entries);

    public long TakeCounter() => NextCounter++;

    /// <summary>The task an enqueue still being written gave <paramref name="key"/>, or 0.</summary>
    public long SeqOfKey(string key) => _keys?.GetValueOrDefault(key) ?? 0;

    public void AddKey(string key, long seq) => (_keys ??= new(StringComparer.Ordinal))[key] = seq;

    /// <summary>The enqueue of <paramref name="seq"/> with <paramref name="key"/> is durable: the durable state knows the key now.</summary>
    public void KeyPersisted(string key, long seq)
    {
        if (_keys is not null && _keys.TryGetValue(key, out var pending) && pending == seq) _keys.Remove(key);
    }

    /// <summary>Task <paramref name="seq"/> is being settled as <paramref name="status"/> (completed or cancelled).</summary>
    public void MarkSettling(long seq, TaskStatus status) => (_settling ??= [])[seq] = status;

    public bool IsSettling(long seq) => _settling?.ContainsKey(seq) == true;

    public bool TryGetSettling(long seq, out TaskStatus status)
    {
        status = default;
        return _settling?.TryGetValue(seq, out status) == true;
    }

    /// <summary>The settlement of <paramref name="seq"/> is durable.</summary>
    public void ForgetSettling(long seq) => _settling?.Remove(seq);
}
