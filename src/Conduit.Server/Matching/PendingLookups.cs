namespace Conduit.Server.Matching;

/// <summary>A request about a task id, waiting while the journal event that should hold the task is read.</summary>
/// <param name="Read">The read whose page answers it.</param>
internal sealed record Lookup(object ReplyTo, IPartitionRequest Request, long Seq, FetchRequest Read);

/// <summary>
/// Requests that name a fresh task the partition does not hold in memory (cancel, get) wait here while the event that
/// should hold it is read: a task id carries a counter and a priority, and only the event can say whether that task
/// exists. At most <see cref="Limit"/> wait at once.
/// </summary>
internal sealed class PendingLookups
{
    /// <summary>Most requests waiting for a lookup at once; more are refused with Overloaded.</summary>
    public const int Limit = 256;

    private readonly List<Lookup> _waiting = [];

    public int Count => _waiting.Count;
    public bool IsFull => _waiting.Count >= Limit;

    /// <summary>Every waiting lookup, in the order they came.</summary>
    public IEnumerable<Lookup> All => _waiting;

    public void Add(Lookup lookup) => _waiting.Add(lookup);

    /// <summary>The lookups that wait for <paramref name="read"/>, in the order they came (a copy: remove them while walking it).</summary>
    public List<Lookup> WaitingFor(FetchRequest read) => _waiting.Where(l => ReferenceEquals(l.Read, read)).ToList();

    public bool Remove(Lookup lookup) => _waiting.Remove(lookup);

    public void Clear() => _waiting.Clear();
}
