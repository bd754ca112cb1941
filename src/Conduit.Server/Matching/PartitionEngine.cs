using Conduit.Server.History;
using Conduit.Server.Metrics;
using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

/// <summary>
/// The matching state of one partition and every decision about it, without Akka: the actor feeds it requests,
/// durable events, journal pages and ticks, and carries out the <see cref="IPartitionEffects"/> it asks for.
/// <para>
/// Rule of thumb: what takes a task away from dispatch (lease, complete, cancel, purge) happens when decided;
/// what makes a task dispatchable (enqueue, retry, requeue) happens once its event is durable
/// (<see cref="OnPersisted"/>), so nothing is handed out before it is acknowledged-safe.
/// </para>
/// <para>
/// The state is held by parts that each own their fields and are tested alone: <see cref="Durable"/> (what the
/// journal says), <see cref="ReadyWindow"/>, <see cref="LeaseTable"/>, <see cref="WaitingPollers"/>,
/// <see cref="DelaySchedule"/>, <see cref="PendingWrites"/> and <see cref="PendingLookups"/>. The engine composes
/// them: every decision that needs more than one part is made here. What is left as fields is the journal's read and
/// compaction bookkeeping (PartitionEngine.Journal.cs).
/// </para>
/// </summary>
internal sealed partial class PartitionEngine
{
    private const int MaxReasonLength = 2000;
    private const int MinPageTasks = 64;
    private const int MaxFetchEvents = 64;
    /// <summary>
    /// How many windows' worth of tasks may wait in memory for their concurrency key (parked) before paging stops: the
    /// bound on memory when many tasks of a few keys are held back (docs/limits.md).
    /// </summary>
    internal const int ParkedWindows = 4;

    private readonly PartitionId _id;
    private readonly PartitionOptions _o;
    private readonly IPartitionEffects _fx;
    private readonly Func<long> _now;
    private readonly Random _random;
    private readonly ReadyWindow _window = new();
    private readonly LeaseTable _leases = new();
    private readonly LeaseSigner _signer;
    private readonly WaitingPollers _pollers = new();
    private readonly DelaySchedule _schedule = new();
    private readonly PendingWrites _pending;
    private readonly PendingLookups _lookups = new();
    private readonly DispatchLimits _limits = new();
    /// <summary>How many partitions the queue has where this one runs: its share of the queue's limits depends on it.</summary>
    private readonly int _partitions;
    /// <summary>The window's read in flight (a scan or a fetch of due tasks); a page for any other request is ignored.</summary>
    private ReadRequest? _reading;
    /// <summary>The relocation read in flight.</summary>
    private FetchRequest? _relocation;
    /// <summary>Events whose long-lived tasks this round of relocation still has to move.</summary>
    private Queue<long>? _toRelocate; // made when compaction first relocates
    /// <summary>A scan reached events the partition has not been told are durable: no scan until the next notice.</summary>
    private bool _scanWaitsForNotice;
    private long _lastSnapshotSeqNr;
    private long _lastPersistedAtMs;
    private bool _compactionPending;
    /// <summary>What the node's metrics read (<see cref="PublishGauges"/>, counts as things happen); the partition actor's, so it outlives engines.</summary>
    private readonly PartitionStats _stats;

    public PartitionEngine(PartitionId id, PartitionOptions options, DurablePartitionState durable, IPartitionEffects effects,
        Func<long>? nowMs = null, Random? random = null, PartitionStats? stats = null, int partitions = 1)
    {
        _id = id;
        _partitions = Math.Max(1, partitions);
        _stats = stats ?? new PartitionStats(id.Namespace, id.Queue);
        _o = options;
        _fx = effects;
        _now = nowMs ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        _random = random ?? Random.Shared;
        Durable = durable;
        _signer = new LeaseSigner(durable.LeaseKey
            ?? throw new InvalidOperationException($"partition {id} has no lease key: its engine starts after the owner epoch, which makes it"));
        _pending = new PendingWrites(durable.NextCounter);
        _lastSnapshotSeqNr = durable.LastEventSeqNr;
        Array.Copy(durable.FreshCount, _window.NotLoaded, durable.FreshCount.Length);
        var now = _now();
        foreach (var e in durable.Exceptions.Values)
        {
            switch (e.State)
            {
                case TaskState.Scheduled or TaskState.Failed:
                    _schedule.Add(e.Seq, e.RunAtMs);
                    break;
                case TaskState.Running:
                    // Possibly still running somewhere: hold it for one lease timeout (docs/ownership-and-failover.md).
                    _leases.Add(new Lease
                    {
                        Seq = e.Seq, Attempt = e.Attempt, MaxAttempts = e.MaxAttempts, EnqueuedAtMs = e.EnqueuedAtMs,
                        LeaseMs = _o.LeaseTimeoutMs, ExpiresAtMs = now + _o.LeaseTimeoutMs, Nonce = e.Nonce, Epoch = e.DispatchEpoch,
                        ConcurrencyKey = e.ConcurrencyKey,
                    });
                    break;
            }
        }
        _limits.Set(durable.Limits?.ToLimits(), id.Index, _partitions, now);
        PromoteDue(now);
        RequestReadIfNeeded(); // page the backlog in before the first poll asks
    }

    public DurablePartitionState Durable { get; }

    /// <summary>
    /// Whether <see cref="OnTick"/> has anything to do: leases to expire, delayed or due tasks, backlog still to page
    /// in, pollers waiting for the queue's rate to let a ready task go. An idle partition needs no timer, so thousands of
    /// quiet queues cost no CPU.
    /// </summary>
    public bool NeedsTick => _leases.Count > 0 || _schedule.WaitingCount > 0 || _schedule.DueCount > 0 || _window.HighestNotLoaded() >= 0
                             || (_limits.RateLimited && !Durable.Paused && _pollers.Count > 0 && _window.Count > 0);
    public int WindowCount => _window.Count;
    /// <summary>Tasks in memory with their payloads: in line and parked behind their concurrency keys.</summary>
    public int TasksInMemory => _window.Total;
    public int WaitingPollers => _pollers.Count;
    public long Outstanding => _pending.Outstanding;

    /// <summary>Nothing to do and nothing to remember in memory: no tasks, no leases, no pollers, nothing being written.</summary>
    public bool IsIdle => _pending.Outstanding == 0 && _pollers.Count == 0 && _leases.Count == 0 && _window.Total == 0
                          && Durable.TotalFresh == 0 && Durable.Exceptions.Count == 0;

    /// <summary>The partition became idle (<see cref="IsIdle"/>): let go of what only work needs.</summary>
    public void OnIdle()
    {
        _signer.Release();
        _leases.Release();
        _window.Release();
    }

    /// <summary>What the window's index has room for and whether the lease table holds storage (tests).</summary>
    internal (int WindowIndexCapacity, bool LeaseStorage) Storage => (_window.IndexCapacity, _leases.HoldsStorage);

    public void Handle(object replyTo, IPartitionRequest request)
    {
        // A queue request for another namespace or queue (sent straight to the shard region) is not this partition's to answer.
        if (QueueAddress.Of(request) is { } address && (address.Queue != _id.Queue || address.Namespace != _id.Namespace))
        {
            Reject(replyTo, ErrorCode.InvalidArgument,
                $"partition {_id} holds queue {_id.QueuePath}, not {SafeText.Escape(address.Namespace, 140)}/{SafeText.Escape(address.Queue, 140)}");
            return;
        }
        switch (request)
        {
            case Enqueue e: HandleEnqueue(replyTo, [e.Task], batch: false); break;
            case EnqueueBatch b: HandleEnqueue(replyTo, b.Tasks ?? [], batch: true); break;
            case Poll p: HandlePoll(replyTo, p); break;
            case CancelPoll c: CancelWaiting(c.PollId); break;
            case ReleaseTasks r: HandleRelease(replyTo, r); break;
            case Heartbeat h: HandleHeartbeat(replyTo, h); break;
            case Complete c: HandleComplete(replyTo, c); break;
            case Fail f: HandleFail(replyTo, f); break;
            case CancelTask c: HandleCancel(replyTo, c); break;
            case GetTask g: HandleGetTask(replyTo, g); break;
            case GetQueueStats: _fx.Reply(replyTo, Stats()); break;
            case PauseQueue: Append([BatchEntry.Of(EntryKind.Paused)], replyTo, new QueueStateChanged(_id.Queue, true, _id.Namespace)); break;
            case ResumeQueue: Append([BatchEntry.Of(EntryKind.Resumed)], replyTo, new QueueStateChanged(_id.Queue, false, _id.Namespace)); break;
            case PurgeQueue: HandlePurge(replyTo); break;
            case SetQueueLimits l: HandleSetLimits(replyTo, l); break;
            case ListDeadLetters l: HandleListDeadLetters(replyTo, l); break;
            case ListTasks l: HandleListTasks(replyTo, l); break;
            case RequeueDeadLetters r: HandleRequeue(replyTo, r); break;
            default: Reject(replyTo, ErrorCode.InvalidArgument, $"unsupported request {request.GetType().Name}"); break;
        }
        // A lease that ended without a write (a cancelled task's worker answering, leases found expired) brings no
        // durability notice, which is when dispatch runs: let its key's parked tasks go now.
        if (_leases.HasEndedKeys && _window.ParkedCount > 0) TryDispatch();
    }

    // ---- enqueue -------------------------------------------------------------------------------------------

    private void HandleEnqueue(object replyTo, TaskSpec[] specs, bool batch)
    {
        if (TaskSpecRules.CheckBatch(specs, _o) is { } invalid) { _fx.Reply(replyTo, invalid); return; }
        var now = _now();
        foreach (var spec in specs)
        {
            if (TaskSpecRules.Check(spec, _o, now) is { } error) { _fx.Reply(replyTo, error); return; }
        }
        if (_pending.Outstanding + specs.Length > _o.OutstandingWriteLimit)
        {
            Reject(replyTo, ErrorCode.Overloaded, $"partition {_id} has {_pending.Outstanding} writes outstanding; retry with backoff");
            return;
        }
        var results = new Enqueued[specs.Length];
        var entries = new List<BatchEntry>(specs.Length);
        for (var i = 0; i < specs.Length; i++)
        {
            var spec = specs[i];
            var key = spec.IdempotencyKey;
            if (key is not null && (Durable.IdempotencyKeys.TryGetValue(key, out var known) ? known.Seq : _pending.SeqOfKey(key)) is var original and > 0)
            {
                results[i] = new Enqueued(TaskIdOf(original), Duplicate: true);
                continue;
            }
            var seq = TaskSeq.Of(_pending.TakeCounter(), spec.Priority).Value;
            var runAt = spec.RunAtUnixMs ?? now + spec.DelayMs;
            var record = new TaskRecord
            {
                Seq = seq, Payload = spec.Payload, Headers = spec.Headers is { Count: > 0 } h ? h : null, EnqueuedAtMs = now,
                RunAtMs = Math.Max(runAt, now), MaxAttempts = spec.MaxAttempts > 0 ? spec.MaxAttempts : _o.DefaultMaxAttempts,
                IdempotencyKey = key, ConcurrencyKey = spec.ConcurrencyKey,
            };
            if (key is not null) _pending.AddKey(key, seq);
            entries.Add(new BatchEntry { Kind = EntryKind.Enqueued, Seq = seq, Task = record });
            results[i] = new Enqueued(TaskIdOf(seq), Duplicate: false);
        }
        Append(entries.ToArray(), replyTo, batch ? new EnqueuedBatch(results) : results[0]);
    }


    // ---- poll and dispatch ---------------------------------------------------------------------------------

    private void HandlePoll(object replyTo, Poll poll)
    {
        if (TaskSpecRules.CheckPoll(poll, _o) is { } invalid) { _fx.Reply(replyTo, invalid); return; }

        var waiter = _pollers.Add(replyTo, poll.MaxTasks, poll.LeaseMs > 0 ? poll.LeaseMs : _o.LeaseTimeoutMs, poll.PollId, poll.Worker);
        TryDispatch();
        if (!_pollers.Contains(waiter.Id)) return;
        // Answer empty a little before the client's wait runs out, so the answer arrives in time.
        var margin = Math.Min(100, poll.WaitMs / 10);
        if (poll.WaitMs - margin <= 0) OnPollDeadline(waiter.Id);
        else _fx.SchedulePollDeadline(waiter.Id, poll.WaitMs - margin);
    }

    public void OnPollDeadline(long pollId)
    {
        if (!_pollers.TryRemove(pollId, out var waiter)) return;
        _fx.Reply(waiter.ReplyTo, new Polled([]));
    }

    /// <summary>A frontend no longer needs this wait (another partition answered): answer it empty now.</summary>
    private void CancelWaiting(long frontendPollId)
    {
        if (!_pollers.TryFindByFrontendId(frontendPollId, out var id)) return;
        _fx.CancelPollDeadline(id);
        OnPollDeadline(id);
    }

    /// <summary>Answers every waiting poller with <paramref name="reply"/> (the partition is going away).</summary>
    public void AbandonPollers(object reply)
    {
        foreach (var lookup in _lookups.All) _fx.Reply(lookup.ReplyTo, reply is Polled ? new Rejected(ErrorCode.Unavailable, $"partition {_id} is moving; retry") : reply);
        _lookups.Clear();
        foreach (var waiter in _pollers.All) _fx.Reply(waiter.ReplyTo, reply);
        _pollers.Clear();
    }

    /// <summary>Hands ready tasks to waiting pollers, highest priority first, never ahead of a higher-priority backlog still in the journal.</summary>
    /// <param name="afterWrite">Called as a write became durable: what goes now goes to pollers that were waiting for it (a sync match).</param>
    private void TryDispatch(bool afterWrite = false)
    {
        UnparkEndedKeys();
        if (!Durable.Paused && _pollers.Count > 0 && _window.Count > 0)
        {
            var now = _now();
            List<BatchEntry>? hints = null;
            List<HistoryRecord>? started = _fx.KeepsHistory ? [] : null;
            // The queue's limits (rate, running), this partition's share: what they hold back waits for the next tick or completion.
            var allowance = _limits.Allowance(now, _leases.Count);
            var taken = 0;
            while (_pollers.Count > 0 && allowance > taken && CanDispatchBest())
            {
                var waiter = _pollers.TakeOldest();
                _fx.CancelPollDeadline(waiter.Id);
                var tasks = new List<LeasedTask>(Math.Min(waiter.MaxTasks, _window.Count));
                long bytes = 0;
                // Fewer tasks rather than a reply too big to send: what would not fit stays ready for the next poll.
                while (tasks.Count < waiter.MaxTasks && allowance > taken && CanDispatchBest()
                       && (tasks.Count == 0 || bytes + WireBytes(_window.Best!.Task) <= WireLimits.MaxReplyBytes))
                {
                    taken++;
                    var ready = _window.TakeBest();
                    bytes += WireBytes(ready.Task);
                    tasks.Add(LeaseOut(ready, waiter, now, hints ??= [], started));
                }
                _fx.Reply(waiter.ReplyTo, new Polled(tasks.ToArray()));
                _stats.Count(afterWrite ? PartitionCounter.DispatchedSync : PartitionCounter.DispatchedBacklog, tasks.Count);
            }
            _limits.Took(taken);
            // The dispatch hints tell a recovering partition which tasks may still be running; nobody waits for them.
            if (hints is not null) Append(hints.ToArray(), null, null);
            // The task history learns of each delivery (and the payload) now; nobody waits for it.
            if (started is { Count: > 0 }) _fx.History(started.ToArray());
        }
        RequestReadIfNeeded();
    }

    /// <summary>
    /// At least the bytes a task takes in a <see cref="Polled"/>: payload, headers (UTF-8, at most 3 bytes a character),
    /// and the task id and lease token (each well under 1 KiB).
    /// </summary>
    private static long WireBytes(TaskRecord task)
    {
        long bytes = task.Payload.Length + 2 * 1024;
        if (task.Headers is { } headers)
            foreach (var (name, value) in headers) bytes += 8 + 3L * (name.Length + (value?.Length ?? 0));
        return bytes;
    }

    /// <summary>
    /// Whether the best task in line may go now: not behind a higher-priority backlog still in the journal. Tasks whose
    /// concurrency key is at the queue's per-key limit are parked on the way (they wait for a lease of their key to end).
    /// </summary>
    private bool CanDispatchBest()
    {
        while (_window.Best is { } blocked && KeyIsFull(blocked.Task.ConcurrencyKey)) _window.Park(blocked);
        return _window.Best is { } best && best.Priority >= _window.HighestNotLoaded();
    }

    private bool KeyIsFull(string? key) =>
        key is not null && _limits.Queue.MaxRunningPerKey > 0 && _leases.RunningWithKey(key) >= _limits.Queue.MaxRunningPerKey;

    /// <summary>Tasks parked for keys whose leases ended go back in line, as many as their keys have room for.</summary>
    private void UnparkEndedKeys()
    {
        if (_leases.TakeEndedKeys() is not { } ended || _window.ParkedCount == 0) return;
        var perKey = _limits.Queue.MaxRunningPerKey;
        foreach (var key in ended)
            _window.Unpark(key, perKey > 0 ? perKey - _leases.RunningWithKey(key) : int.MaxValue);
    }

    /// <summary>
    /// How many more tasks the window may take in: up to <see cref="PartitionOptions.ReadyWindow"/> in line, and none
    /// while <see cref="ParkedWindows"/> windows' worth wait for their keys.
    /// </summary>
    private int WindowRoom() => ParkingFull ? 0 : _o.ReadyWindow - _window.Count;

    private bool ParkingFull => _window.ParkedCount >= ParkedWindows * _o.ReadyWindow;

    private LeasedTask LeaseOut(ReadyTask ready, Waiter waiter, long now, List<BatchEntry> hints, List<HistoryRecord>? started)
    {
        var task = ready.Task;
        var leaseMs = waiter.LeaseMs;
        var lease = new Lease
        {
            Seq = task.Seq, Attempt = ready.Attempt + 1, MaxAttempts = ready.MaxAttempts, EnqueuedAtMs = task.EnqueuedAtMs,
            LeaseMs = leaseMs, Nonce = LeaseSigner.NewNonce(), Epoch = Durable.Epoch, ExpiresAtMs = now + leaseMs, LeasedAtMs = now,
            ConcurrencyKey = task.ConcurrencyKey, Worker = waiter.Worker,
        };
        if (ready.Attempt == 0 && _stats.Metrics is { } metrics && metrics.ScheduleToStart.Enabled)
            metrics.ScheduleToStart.Record(Math.Max(0, now - Math.Max(task.EnqueuedAtMs, task.RunAtMs)) / 1000.0);
        _leases.Add(lease);
        hints.Add(new BatchEntry
        {
            Kind = EntryKind.Dispatched, Seq = task.Seq, Attempt = lease.Attempt, MaxAttempts = lease.MaxAttempts,
            EnqueuedAtMs = task.EnqueuedAtMs, Nonce = lease.Nonce, Reason = task.ConcurrencyKey, // the hint's Reason: its key
        });
        var taskId = new TaskId(_id, task.Seq);
        var taskIdText = taskId.ToString(); // once per delivery: the poll's answer and the history share it
        started?.Add(new HistoryRecord(HistoryChange.Started, taskIdText, _id.Namespace, _id.Queue, lease.Attempt, now,
            Payload: task.Payload, EnqueuedAtMs: task.EnqueuedAtMs, Epoch: Durable.Epoch, Worker: waiter.Worker));
        var token = _signer.Sign(taskId, lease.Attempt, lease.Epoch, lease.Nonce);
        return new LeasedTask(taskIdText, token, task.Payload, task.Headers, task.Priority,
            lease.Attempt, lease.MaxAttempts, task.EnqueuedAtMs, lease.ExpiresAtMs);
    }

    // ---- time and durability (paging and snapshots: PartitionEngine.Journal.cs) --------------------------------------------------------------------------

    /// <summary>Periodic: expires leases, promotes due delayed tasks, dispatches.</summary>
    public void OnTick()
    {
        var now = _now();
        ExpireLeases(now);
        PromoteDue(now);
        TryDispatch();
    }

    private void PromoteDue(long now)
    {
        while (_schedule.TryTakeReached(now, out var seq, out var runAt))
        {
            if (Durable.Exceptions.TryGetValue(seq, out var e) && e.State is TaskState.Scheduled or TaskState.Failed
                && e.RunAtMs == runAt && !_leases.Contains(seq) && !_window.Contains(seq) && !_pending.IsSettling(seq))
                _schedule.MarkDue(seq);
        }
    }

    /// <summary>Event <paramref name="seqNr"/> is durable: apply it and make what it enqueued or retried dispatchable.</summary>
    public void OnPersisted(PartitionBatch batch, long seqNr)
    {
        _pending.Persisted(batch.Entries.Length);
        Durable.Apply(batch, seqNr);
        int enqueued = 0, completed = 0;
        _lastPersistedAtMs = _now();
        _scanWaitsForNotice = false;
        foreach (var entry in batch.Entries)
        {
            switch (entry.Kind)
            {
                case EntryKind.Enqueued:
                    enqueued++;
                    var task = entry.Task!;
                    if (task.IdempotencyKey is { } key) _pending.KeyPersisted(key, task.Seq);
                    if (Durable.IsFresh(task.Seq) && !_pending.IsSettling(task.Seq)) MakeAvailable(task, seqNr);
                    else if (Durable.Exceptions.TryGetValue(task.Seq, out var scheduled) && scheduled.State == TaskState.Scheduled)
                        _schedule.Add(task.Seq, scheduled.RunAtMs);
                    break;
                case EntryKind.Retried or EntryKind.Requeued:
                    if (Durable.Exceptions.TryGetValue(entry.Seq, out var failed) && failed.State == TaskState.Failed)
                        _schedule.Add(entry.Seq, failed.RunAtMs);
                    break;
                case EntryKind.Completed:
                    completed++;
                    _pending.ForgetSettling(entry.Seq);
                    break;
                case EntryKind.Cancelled:
                    _pending.ForgetSettling(entry.Seq);
                    break;
                case EntryKind.Purged:
                    PurgeRuntime(entry.AtMs);
                    break;
                case EntryKind.LimitsSet:
                    _limits.Set(Durable.Limits?.ToLimits(), _id.Index, _partitions, _now());
                    _window.UnparkAll(); // the per-key limit may have changed: dispatch parks again what must still wait
                    break;
            }
        }
        if (enqueued > 0) _stats.Count(PartitionCounter.Enqueued, enqueued);
        if (completed > 0) _stats.Count(PartitionCounter.Completed, completed);
        var now = _now();
        PromoteDue(now);
        TryDispatch(afterWrite: true);
        MaybeSnapshot(seqNr, now);
        ContinueRelocation();
    }

    /// <summary>A durable fresh task joins the window if its priority has no backlog in the journal and there is room; otherwise it stays in the journal.</summary>
    private void MakeAvailable(TaskRecord task, long eventSeqNr)
    {
        var p = task.Priority;
        if (_window.NotLoaded[p] == 0 && WindowRoom() > 0)
        {
            _window.Add(new ReadyTask(task, 0, task.MaxAttempts, eventSeqNr));
            _window.LoadedUpTo[p] = task.Counter;
            _window.ScanFrom[p] = eventSeqNr;
        }
        else
        {
            _window.NotLoaded[p]++;
        }
    }

    /// <param name="history">What the task history learns once the entries are durable, before <paramref name="reply"/> goes out (null: nothing).</param>
    private void Append(BatchEntry[] entries, object? replyTo, object? reply, List<HistoryRecord>? history = null)
    {
        _pending.Sent(entries.Length);
        _fx.Append(entries, replyTo, reply, history is { Count: > 0 } ? history.ToArray() : null);
    }

    /// <summary>The end of <paramref name="lease"/>'s delivery for the task history: it settled the task as <paramref name="final"/> (0: a retry follows).</summary>
    private HistoryRecord EndOf(Lease lease, long now, AttemptOutcome outcome, TaskStatus final = 0, string? reason = null, byte[]? output = null) =>
        new(final == 0 ? HistoryChange.AttemptEnded : HistoryChange.Finished, TaskIdOf(lease.Seq), _id.Namespace, _id.Queue, lease.Attempt, now,
            outcome, reason, final, Output: output, EnqueuedAtMs: lease.EnqueuedAtMs, StartedAtMs: lease.LeasedAtMs, Epoch: Durable.Epoch, Worker: lease.Worker);

    private void Reject(object replyTo, ErrorCode code, string message) => _fx.Reply(replyTo, new Rejected(code, message));

    private string TaskIdOf(long seq) => new TaskId(_id, seq).ToString();
}
