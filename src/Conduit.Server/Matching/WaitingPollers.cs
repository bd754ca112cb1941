namespace Conduit.Server.Matching;

/// <summary>A poll waiting for tasks: whom to answer, how many tasks at most, and for how long to lease them.</summary>
/// <param name="Id">The partition's own id for this wait (its deadline timer is keyed by it).</param>
/// <param name="FrontendPollId">The frontend's id for the poll, by which it can cancel the wait; 0 when it gave none.</param>
/// <param name="Worker">The worker's name for itself (<see cref="Poll.Worker"/>), kept with the deliveries it gets.</param>
internal sealed record Waiter(long Id, object ReplyTo, int MaxTasks, long LeaseMs, long FrontendPollId, string? Worker = null);

/// <summary>
/// The polls waiting at a partition for tasks, served oldest first (as Temporal's matcher hands a task to the poller
/// that has waited longest). A wait leaves when it is served, when its deadline passes, or when the frontend cancels it
/// because another partition answered.
/// </summary>
internal sealed class WaitingPollers
{
    // Made with the first poller: a node holds many partitions that nobody has polled (yet).
    private LinkedList<Waiter>? _queue;
    private Dictionary<long, LinkedListNode<Waiter>>? _byId;
    private Dictionary<long, long>? _idsByFrontendId;
    private long _lastId;

    public int Count => _queue?.Count ?? 0;

    /// <summary>Every waiting poll, oldest first.</summary>
    public IEnumerable<Waiter> All => (IEnumerable<Waiter>?)_queue ?? [];

    /// <summary>Adds a wait at the back of the line and gives it the next id.</summary>
    public Waiter Add(object replyTo, int maxTasks, long leaseMs, long frontendPollId, string? worker = null)
    {
        var waiter = new Waiter(++_lastId, replyTo, maxTasks, leaseMs, frontendPollId, worker);
        (_byId ??= [])[waiter.Id] = (_queue ??= []).AddLast(waiter);
        if (frontendPollId != 0) (_idsByFrontendId ??= [])[frontendPollId] = waiter.Id;
        return waiter;
    }

    public bool Contains(long id) => _byId?.ContainsKey(id) == true;

    /// <summary>The partition's id of the wait the frontend knows as <paramref name="frontendPollId"/>.</summary>
    public bool TryFindByFrontendId(long frontendPollId, out long id)
    {
        id = 0;
        return _idsByFrontendId?.TryGetValue(frontendPollId, out id) == true;
    }

    /// <summary>Takes the wait <paramref name="id"/> out of line, if it still waits.</summary>
    public bool TryRemove(long id, out Waiter waiter)
    {
        if (_byId is null || !_byId.Remove(id, out var node))
        {
            waiter = null!;
            return false;
        }
        _queue!.Remove(node);
        waiter = node.Value;
        ForgetFrontendId(waiter);
        return true;
    }

    /// <summary>Takes the wait at the front of the line (there must be one).</summary>
    public Waiter TakeOldest()
    {
        var waiter = _queue!.First!.Value;
        _queue.RemoveFirst();
        _byId!.Remove(waiter.Id);
        ForgetFrontendId(waiter);
        return waiter;
    }

    /// <summary>Forgets every wait (after each was answered).</summary>
    public void Clear()
    {
        _queue?.Clear();
        _byId?.Clear();
        _idsByFrontendId?.Clear();
    }

    private void ForgetFrontendId(Waiter waiter)
    {
        if (waiter.FrontendPollId != 0) _idsByFrontendId?.Remove(waiter.FrontendPollId);
    }
}
