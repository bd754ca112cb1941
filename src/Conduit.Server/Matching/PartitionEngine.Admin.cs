using Conduit.Server.History;
using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

// Task and queue administration: cancel, get, stats, purge, dead letters, limits.
internal sealed partial class PartitionEngine
{
    /// <summary>Replaces the queue's limits; in force once durable (<see cref="OnPersisted"/>), like a pause.</summary>
    private void HandleSetLimits(object replyTo, SetQueueLimits request)
    {
        if (TaskSpecRules.CheckLimits(request.Limits, _partitions) is { } invalid) { _fx.Reply(replyTo, invalid); return; }
        var limits = request.Limits.IsNone ? QueueLimits.None : request.Limits;
        Append([new BatchEntry { Kind = EntryKind.LimitsSet, Limits = LimitsRecord.Of(limits) }], replyTo,
            new QueueLimitsChanged(_id.Queue, limits, _id.Namespace));
    }

    /// <summary>The queue's limits and this partition's share of them.</summary>
    public DispatchLimits Limits => _limits;

    /// <summary>Status as the partition sees it now, including decisions not yet durable.</summary>
    private TaskStatus? StatusOf(long seq, long now)
    {
        if (_pending.TryGetSettling(seq, out var settling)) return settling;
        if (_leases.TryGet(seq, out var lease)) return lease.CancelRequested ? TaskStatus.Cancelled : TaskStatus.Running;
        if (new TaskSeq(seq).Counter >= Durable.NextCounter) return null;
        if (_window.Contains(seq)) return TaskStatus.Ready;
        var status = Durable.StatusOf(seq, now);
        // The journal says running but no lease is live: it failed or expired and its retry is not yet durable.
        return status == TaskStatus.Running ? TaskStatus.Failed : status;
    }

    private bool TryParseOwnTask(object replyTo, string? text, out long seq)
    {
        seq = 0;
        if (!TaskId.TryParse(text, out var id) || id.Partition != _id)
        {
            Reject(replyTo, ErrorCode.TaskNotFound, $"'{SafeText.Escape(text)}' is not a task id of partition {_id}");
            return false;
        }
        seq = id.Seq;
        return true;
    }

    /// <summary>
    /// A fresh task not in memory is known only by its counter; the priority in the id (the low 4 bits) is checked against
    /// the journal before anything is answered or changed, so an id with another task's counter and a made-up priority
    /// cannot cancel or report that task. True when <paramref name="seq"/> may be used now; false when the request was
    /// answered or waits for the lookup (it is handled again once the event is read).
    /// </summary>
    private bool Verified(object replyTo, IPartitionRequest request, long seq, bool verified)
    {
        if (verified || !Durable.IsFresh(seq) || _window.Contains(seq) || _schedule.IsDue(seq) || _leases.Contains(seq) || _pending.IsSettling(seq))
            return true;
        var counter = new TaskSeq(seq).Counter;
        for (var p = 0; p < DurablePartitionState.PriorityLevels; p++)
        {
            var other = TaskSeq.Of(counter, p).Value;
            if (other != seq && (_window.Contains(other) || _leases.Contains(other) || _pending.IsSettling(other) || Durable.Exceptions.ContainsKey(other)))
            {
                Reject(replyTo, ErrorCode.TaskNotFound, $"task {TaskIdOf(seq)} does not exist");
                return false;
            }
        }
        var eventSeqNr = Durable.EventOf(counter);
        if (eventSeqNr == 0) { Reject(replyTo, ErrorCode.TaskNotFound, $"task {TaskIdOf(seq)} does not exist"); return false; }
        if (_lookups.IsFull) { Reject(replyTo, ErrorCode.Overloaded, $"partition {_id} is looking up {PendingLookups.Limit} task ids; retry"); return false; }
        var read = new FetchRequest([eventSeqNr], ForLookup: true);
        _lookups.Add(new Lookup(replyTo, request, seq, read));
        _fx.Read(read);
        return false;
    }

    /// <summary>The event a lookup asked for: handle each waiting request again if its task is there, else TaskNotFound.</summary>
    private void AnswerLookups(FetchRequest read, IReadOnlyList<(long SeqNr, PartitionBatch Batch)>? events)
    {
        foreach (var lookup in _lookups.WaitingFor(read))
        {
            _lookups.Remove(lookup);
            if (events is null)
                Reject(lookup.ReplyTo, ErrorCode.Unavailable, $"partition {_id} could not read its journal; retry");
            else if (!events.Any(e => RecordIn(e.Batch, lookup.Seq) is not null))
                Reject(lookup.ReplyTo, ErrorCode.TaskNotFound, $"task {TaskIdOf(lookup.Seq)} does not exist");
            else if (lookup.Request is CancelTask cancel) HandleCancel(lookup.ReplyTo, cancel, verified: true);
            else if (lookup.Request is GetTask get)
                HandleGetTask(lookup.ReplyTo, get, verified: true, events.Select(e => RecordIn(e.Batch, lookup.Seq)).FirstOrDefault(r => r is not null));
        }
    }

    private void HandleCancel(object replyTo, CancelTask cancel, bool verified = false)
    {
        if (!TryParseOwnTask(replyTo, cancel.TaskId, out var seq)) return;
        if (!Verified(replyTo, cancel, seq, verified)) return;
        Lease? running = null;
        switch (StatusOf(seq, _now()))
        {
            case null:
                Reject(replyTo, ErrorCode.TaskNotFound, $"task {cancel.TaskId} does not exist");
                return;
            case TaskStatus.Completed or TaskStatus.Cancelled:
                Reject(replyTo, ErrorCode.InvalidArgument, $"task {cancel.TaskId} is already {StatusOf(seq, _now())}");
                return;
            case TaskStatus.Running:
                _leases.TryGet(seq, out var lease);
                lease.CancelRequested = true; // the worker learns it from its next heartbeat
                running = lease;
                break;
            default:
                if (!_window.Remove(seq) && !_schedule.RemoveDue(seq) && Durable.IsFresh(seq) && _window.IsNotLoaded(seq))
                {
                    var p = new TaskSeq(seq).Priority;
                    _window.NotLoaded[p] = Math.Max(0, _window.NotLoaded[p] - 1);
                }
                break;
        }
        _pending.MarkSettling(seq, TaskStatus.Cancelled);
        // The delivery running now (if any) ends as cancelled with the task; ids as this partition writes them, whatever the request's spelling.
        var history = _fx.KeepsHistory
            ? new List<HistoryRecord>
            {
                running is null
                    ? new(HistoryChange.Finished, TaskIdOf(seq), _id.Namespace, _id.Queue, 0, _now(), AttemptOutcome.Cancelled, Status: TaskStatus.Cancelled, Epoch: Durable.Epoch)
                    : EndOf(running, _now(), AttemptOutcome.Cancelled, TaskStatus.Cancelled, "cancelled"),
            }
            : null;
        Append([BatchEntry.Of(EntryKind.Cancelled, seq)], replyTo, new Cancelled(cancel.TaskId), history);
    }

    /// <param name="record">The task as its journal event holds it, when a lookup read it.</param>
    private void HandleGetTask(object replyTo, GetTask get, bool verified = false, TaskRecord? record = null)
    {
        if (!TryParseOwnTask(replyTo, get.TaskId, out var seq)) return;
        if (!Verified(replyTo, get, seq, verified)) return;
        var now = _now();
        if (StatusOf(seq, now) is not { } status)
        {
            Reject(replyTo, ErrorCode.TaskNotFound, $"task {get.TaskId} does not exist");
            return;
        }
        int attempt = 0, maxAttempts = 0;
        long runAt = 0, enqueuedAt = 0;
        string? error = null;
        if (Durable.Exceptions.TryGetValue(seq, out var e))
        {
            (attempt, maxAttempts, runAt, error) = (e.Attempt, e.MaxAttempts, e.RunAtMs, e.Reason);
        }
        if (_leases.TryGet(seq, out var lease)) (attempt, maxAttempts, enqueuedAt) = (lease.Attempt, lease.MaxAttempts, lease.EnqueuedAtMs);
        // What memory holds of the task: the history (if the node keeps one) fills in the rest.
        if (record is null && _window.TryGet(seq, out var ready)) record = ready.Task;
        if (record is not null) enqueuedAt = record.EnqueuedAtMs;
        var known = new TaskDetails(record?.Payload, null, [], enqueuedAt, 0, Recorded: false);
        _fx.Describe(replyTo, new TaskInfo(TaskIdOf(seq), _id.Queue, status, new TaskSeq(seq).Priority, attempt, maxAttempts, runAt, error, _id.Namespace, known));
    }

    public QueueStats Stats()
    {
        var now = _now();
        long ready = Durable.TotalFresh, delayed = 0, dead = 0;
        foreach (var e in Durable.Exceptions.Values)
        {
            switch (e.State)
            {
                case TaskState.Scheduled or TaskState.Failed when e.RunAtMs > now: delayed++; break;
                case TaskState.Scheduled or TaskState.Failed: ready++; break;
                case TaskState.Dead: dead++; break;
            }
        }
        var running = 0;
        foreach (var lease in _leases.All)
        {
            if (lease.CancelRequested) continue;
            running++;
            if (!Durable.Exceptions.ContainsKey(lease.Seq)) ready--; // dispatched, hint not yet durable
        }
        long oldest = 0;
        foreach (var t in _window.Tasks) oldest = Math.Max(oldest, now - t.Task.EnqueuedAtMs);
        return new QueueStats(_id.Queue, Math.Max(0, ready), delayed, running, dead, oldest, _pollers.Count, Durable.Paused, 1, _id.Namespace,
            _limits.Queue.IsNone ? null : _limits.Queue);
    }

    /// <summary>
    /// What this partition gossips: its backlog and waiting pollers. Cheap (no walk over the exceptions), so the
    /// ready/delayed split of retries is approximate: not yet due = what still waits in the delayed heap.
    /// </summary>
    public PartitionLoad Load()
    {
        var now = _now();
        var waiting = Durable.CountOf(TaskState.Scheduled) + Durable.CountOf(TaskState.Failed);
        var delayed = Math.Min(waiting, _schedule.WaitingCount);
        long oldest = 0;
        foreach (var t in _window.Tasks) oldest = Math.Max(oldest, now - t.Task.EnqueuedAtMs);
        // Frontends route polls to the partitions with the most ready tasks: under the queue's limits, only what may go now
        // counts, so polls wait where a task can be handed out rather than where the limits hold tasks back.
        // Tasks parked behind their concurrency keys are not ready for a poll either.
        var ready = Math.Max(0, Math.Min(Durable.TotalFresh + waiting - delayed - _window.ParkedCount, _limits.Allowance(now, _leases.Count)));
        if (ParkingFull) ready = Math.Min(ready, _window.Count); // past the parking bound nothing more pages in: only what is in line can go
        return new PartitionLoad(ready, delayed, _leases.Count, _pollers.Count, oldest, now);
    }

    /// <summary>
    /// Writes the gauges the node's metrics read into this partition's <see cref="PartitionStats"/>: called after every
    /// message, so it reads only counts kept as things change (no walk over tasks): ready and delayed as <see cref="Load"/>
    /// splits them, and the age of the task at the head of the ready line (the next to go: highest priority, then oldest).
    /// </summary>
    public void PublishGauges()
    {
        var waiting = Durable.CountOf(TaskState.Scheduled) + Durable.CountOf(TaskState.Failed);
        var delayed = Math.Min(waiting, _schedule.WaitingCount);
        _stats.SetGauges(Durable.TotalFresh + waiting - delayed, delayed, _leases.Count, Durable.CountOf(TaskState.Dead), _pollers.Count,
            _window.Best?.Task.EnqueuedAtMs ?? 0);
    }

    private void HandlePurge(object replyTo)
    {
        var purged = Durable.TotalFresh + Durable.Exceptions.Values.Count(e => e.State != TaskState.Running);
        foreach (var lease in _leases.All)
            if (!Durable.Exceptions.ContainsKey(lease.Seq)) purged--;
        var watermark = _pending.NextCounter;
        PurgeRuntime(watermark);
        Append([BatchEntry.Of(EntryKind.Purged, atMs: watermark)], replyTo, new QueuePurged(_id.Queue, Math.Max(0, purged), _id.Namespace));
    }

    /// <summary>Drops what a purge below <paramref name="watermark"/> removes from memory; running tasks stay.</summary>
    private void PurgeRuntime(long watermark)
    {
        _window.PurgeBelow(watermark);
        _schedule.RemoveDueBelow(watermark);
    }

    private void HandleListDeadLetters(object replyTo, ListDeadLetters list)
    {
        if (TaskSpecRules.CheckDeadLetterLimit(list) is { } invalid) { _fx.Reply(replyTo, invalid); return; }
        var limit = list.Limit;
        var candidates = Durable.Exceptions.Values.Where(e => e.State == TaskState.Dead)
            .Select(e => new DeadLetter(TaskIdOf(e.Seq), e.Attempt, e.Reason, e.UpdatedAtMs))
            .Where(d => d.IsAfter(list)).Order(DeadLetter.Order);
        var (items, more) = DeadLetterPage.Take(candidates, limit);
        _fx.Reply(replyTo, new DeadLetters(_id.Queue, items, more, _id.Namespace));
    }

    /// <summary>Live states from memory (this partition's page); settled ones from the task history, which answers.</summary>
    private void HandleListTasks(object replyTo, ListTasks list)
    {
        if (TaskListing.Check(list, out var cursor) is { } invalid) { _fx.Reply(replyTo, invalid); return; }
        if (ListTasks.IsSettled(list.State))
        {
            if (_fx.KeepsHistory) _fx.ListSettled(replyTo, list, cursor);
            else Reject(replyTo, ErrorCode.HistoryOff, $"this node keeps no task history (--task-history-hours 0): {list.State} tasks cannot be listed");
            return;
        }
        var now = _now();
        var candidates = TaskListing.Candidates(list.State, Durable, _window, _leases, seq => StatusOf(seq, now));
        _fx.Reply(replyTo, TaskListing.Page(list, cursor, _id, candidates));
    }

    private void HandleRequeue(object replyTo, RequeueDeadLetters requeue)
    {
        IEnumerable<long> seqs;
        if (requeue.TaskIds is null)
        {
            seqs = Durable.Exceptions.Values.Where(e => e.State == TaskState.Dead).Select(e => e.Seq).ToList();
        }
        else
        {
            if (TaskSpecRules.CheckIdCount(requeue.TaskIds.Length, "task ids") is { } tooMany) { _fx.Reply(replyTo, tooMany); return; }
            var list = new List<long>(requeue.TaskIds.Length);
            foreach (var text in requeue.TaskIds)
            {
                if (!TryParseOwnTask(replyTo, text, out var seq)) return;
                list.Add(seq);
            }
            seqs = list;
        }
        var now = _now();
        var entries = seqs.Distinct()
            .Where(seq => Durable.Exceptions.TryGetValue(seq, out var e) && e.State == TaskState.Dead && !_pending.IsSettling(seq))
            .Select(seq => BatchEntry.Of(EntryKind.Requeued, seq, atMs: now)).ToArray();
        // The history shows the task live again: no finish time, no result, until its next run settles it.
        var history = _fx.KeepsHistory
            ? entries.Select(e => new HistoryRecord(HistoryChange.Requeued, TaskIdOf(e.Seq), _id.Namespace, _id.Queue, 0, now, Epoch: Durable.Epoch)).ToList()
            : null;
        Append(entries, replyTo, new DeadLettersRequeued(_id.Queue, entries.Length, _id.Namespace), history);
    }
}
