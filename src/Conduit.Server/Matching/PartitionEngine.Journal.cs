using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

// The journal behind the window: paging the backlog in, fetching due tasks, snapshots, relocating long-unsettled tasks.
internal sealed partial class PartitionEngine
{
    private void RequestReadIfNeeded()
    {
        if (_reading is not null) return;
        // Due tasks join the window only while it has room (and a page over, as a scan may): a million tasks due at
        // once must not all come into memory with their payloads.
        if (_schedule.DueCount > 0 && WindowRoom() > 0)
        {
            var need = Math.Max(MinPageTasks, WindowRoom());
            var events = new List<long>();
            var tasks = 0;
            foreach (var group in _schedule.Due.Select(seq => Durable.Exceptions.TryGetValue(seq, out var e) ? e.EventSeqNr : 0)
                         .Where(s => s > 0).GroupBy(s => s).OrderBy(g => g.Key))
            {
                if (events.Count >= MaxFetchEvents || tasks >= need) break;
                events.Add(group.Key);
                tasks += group.Count();
            }
            if (events.Count > 0)
            {
                _fx.Read(_reading = new FetchRequest(events.ToArray()));
                return;
            }
            _schedule.ClearDue();
        }
        var p = _window.HighestNotLoaded();
        if (p < 0 || _scanWaitsForNotice) return;
        var best = _window.Best;
        // Tasks parked for their keys hold no place in line, but their number is bounded: past it, only a higher priority pages in.
        if (((_window.Count < _o.ReadyWindow / 2 || best is null) && WindowRoom() > 0) || (best is not null && p > best.Priority))
        {
            _fx.Read(_reading = new ScanRequest(p, _window.ScanFrom[p], _o.ReadPageEvents));
        }
    }

    public void OnJournalPage(JournalPage page)
    {
        if (page.Request is FetchRequest { ForLookup: true } lookup)
        {
            AnswerLookups(lookup, page.Events);
            return;
        }
        if (page.Request is FetchRequest { ForRelocation: true })
        {
            if (!ReferenceEquals(page.Request, _relocation)) return; // asked for by an earlier incarnation
            _relocation = null;
            Relocate(page.Events);
            return;
        }
        // Only the page this engine is waiting for: one asked for before a recovery (or any other) would move the
        // paging cursors over tasks this engine has not seen, and strand them.
        if (!ReferenceEquals(page.Request, _reading)) return;
        _reading = null;
        switch (page.Request)
        {
            case ScanRequest scan: TakeScanned(scan, page.Events); break;
            case FetchRequest: TakeFetched(page.Events); break;
        }
        TryDispatch();
    }

    /// <summary>A read failed (storage trouble): forget it; the next tick asks again.</summary>
    public void OnReadFailed(ReadRequest request)
    {
        if (request is FetchRequest { ForLookup: true } lookup) AnswerLookups(lookup, null);
        else if (ReferenceEquals(request, _relocation))
        {
            _relocation = null;
            _toRelocate?.Clear(); // the next snapshot starts over
        }
        else if (ReferenceEquals(request, _reading)) _reading = null;
    }

    private void TakeScanned(ScanRequest scan, IReadOnlyList<(long SeqNr, PartitionBatch Batch)> events)
    {
        var p = scan.Priority;
        if (events.Count == 0)
        {
            // Past the end of what is durable with fresh tasks still counted: the count drifted. Reset it.
            if (scan.FromSeqNr > Durable.LastEventSeqNr) _window.NotLoaded[p] = 0;
            return;
        }
        var need = Math.Max(MinPageTasks, WindowRoom());
        var taken = 0;
        foreach (var (seqNr, batch) in events)
        {
            if (seqNr > Durable.LastEventSeqNr)
            {
                // Durable, but the partition has not been told yet (the notice comes through the writer's mailbox,
                // the read straight from the journal): stop here; the notice makes those tasks available.
                _window.ScanFrom[p] = seqNr;
                _scanWaitsForNotice = true;
                return;
            }
            foreach (var entry in batch.Entries)
            {
                if (entry.Kind != EntryKind.Enqueued || entry.Task is not { } task || task.Priority != p
                    || task.Counter <= _window.LoadedUpTo[p]) continue;
                _window.LoadedUpTo[p] = task.Counter;
                if (!Durable.IsFresh(task.Seq) || _pending.IsSettling(task.Seq)) continue;
                _window.Add(new ReadyTask(task, 0, task.MaxAttempts, seqNr));
                _window.NotLoaded[p] = Math.Max(0, _window.NotLoaded[p] - 1);
                if (++taken >= need)
                {
                    _window.ScanFrom[p] = seqNr;
                    return;
                }
            }
        }
        _window.ScanFrom[p] = events[^1].SeqNr + 1;
    }

    private void TakeFetched(IReadOnlyList<(long SeqNr, PartitionBatch Batch)> events)
    {
        var now = _now();
        var bySeqNr = events.ToDictionary(e => e.SeqNr, e => e.Batch);
        var room = Math.Max(MinPageTasks, WindowRoom());
        foreach (var seq in _schedule.Due.ToArray())
        {
            if (room <= 0) break; // the rest stays due and is fetched again when the window has room
            if (!Durable.Exceptions.TryGetValue(seq, out var e) || e.State is not (TaskState.Scheduled or TaskState.Failed) || e.RunAtMs > now)
            {
                _schedule.RemoveDue(seq);
                continue;
            }
            if (!bySeqNr.TryGetValue(e.EventSeqNr, out var batch)) continue;
            _schedule.RemoveDue(seq);
            var record = RecordIn(batch, seq);
            if (record is null) continue; // the event no longer holds it: nothing to deliver
            _window.Add(new ReadyTask(record, e.Attempt, e.MaxAttempts > 0 ? e.MaxAttempts : record.MaxAttempts, e.EventSeqNr));
            room--;
        }
    }

    private void MaybeSnapshot(long seqNr, long now)
    {
        if (seqNr - _lastSnapshotSeqNr < _o.SnapshotEvery) return;
        Snapshot(seqNr, now);
    }

    /// <summary>
    /// Compaction at rest: snapshots otherwise follow new events, so without it whatever a quiet partition could still
    /// delete (below a relocation that just happened, or after a snapshot or delete that failed) would stay in the
    /// journal until the next burst. Called by the partition's housekeeping timer while <see cref="WantsCompactionAtRest"/>;
    /// acts once the partition has written nothing for <see cref="PartitionOptions.CompactAtRestAfterMs"/>.
    /// </summary>
    public void OnHousekeeping()
    {
        var now = _now();
        if (_pending.Outstanding > 0 || _relocation is not null || _toRelocate?.Count > 0 || now - _lastPersistedAtMs < _o.CompactAtRestAfterMs) return;
        var since = Durable.LastEventSeqNr - _lastSnapshotSeqNr;
        if (since <= 0 || !(_compactionPending || since >= Math.Max(1, _o.SnapshotEvery / 4))) return;
        Snapshot(Durable.LastEventSeqNr, now);
    }

    /// <summary>
    /// Whether <see cref="OnHousekeeping"/> would snapshot once the partition is at rest: events since the last snapshot,
    /// and a compaction waiting or a quarter of <see cref="PartitionOptions.SnapshotEvery"/> of them. The partition holds
    /// a housekeeping timer only while this is true.
    /// </summary>
    public bool WantsCompactionAtRest
    {
        get
        {
            var since = Durable.LastEventSeqNr - _lastSnapshotSeqNr;
            return since > 0 && (_compactionPending || since >= Math.Max(1, _o.SnapshotEvery / 4));
        }
    }

    /// <summary>A snapshot or a delete did not happen (storage trouble): the next quiet moment tries again.</summary>
    public void OnCompactionFailed()
    {
        _compactionPending = true;
        _lastSnapshotSeqNr = 0; // forget it: the next event, or the next quiet moment, snapshots again
    }

    private void Snapshot(long seqNr, long now)
    {
        _lastSnapshotSeqNr = seqNr;
        _compactionPending = false;
        // Events below the oldest one still needed carry nothing a recovery or a page-in needs once the snapshot is saved.
        var oldest = Durable.OldestNeededEvent();
        var deleteUpTo = oldest == 0 ? seqNr : Math.Min(seqNr, oldest - 1);
        Durable.Prune(now - _o.IdempotencyRetentionMs);
        _fx.SaveSnapshot(Durable.ToSnapshot(), seqNr, deleteUpTo);
        StartRelocation(seqNr);
    }

    /// <summary>
    /// Tasks that stay unsettled long (scheduled far ahead, dead letters, long runners) would pin the journal from
    /// their event on. Copy every one whose event is more than two snapshot periods (or two rounds) old into new events
    /// (<see cref="EntryKind.Relocated"/>) so the next snapshot can delete what lies below. All of them, however many:
    /// reads of <see cref="RelocationReadEvents"/> events follow one another until none is left, so the journal's bound
    /// follows the number of long-lived tasks (docs/backlog-paging.md) instead of falling behind it.
    /// </summary>
    private void StartRelocation(long seqNr)
    {
        if (_relocation is not null || _toRelocate?.Count > 0) return;
        // Two periods, or two rounds' worth of events when moving every long-lived task takes more than a period: a
        // round must not find the tasks it moved first old enough to move again, or it would never end.
        var roundEvents = (Durable.Exceptions.Count + _o.MaxWriteBatch - 1) / _o.MaxWriteBatch;
        var before = seqNr - 2L * Math.Max(_o.SnapshotEvery, roundEvents);
        foreach (var e in Durable.Exceptions.Values.Where(e => e.EventSeqNr < before && e.EventSeqNr > 0).Select(e => e.EventSeqNr).Distinct().Order())
            (_toRelocate ??= new()).Enqueue(e);
        ContinueRelocation();
    }

    private const int RelocationReadEvents = MaxFetchEvents / 4;

    /// <summary>Reads the next events to relocate, unless a read is in flight or clients' writes are backing up.</summary>
    private void ContinueRelocation()
    {
        if (_relocation is not null || _toRelocate is not { Count: > 0 } || _pending.Outstanding > _o.OutstandingWriteLimit / 2) return;
        var events = new long[Math.Min(RelocationReadEvents, _toRelocate.Count)];
        for (var i = 0; i < events.Length; i++) events[i] = _toRelocate.Dequeue();
        _fx.Read(_relocation = new FetchRequest(events, ForRelocation: true));
    }

    private void Relocate(IReadOnlyList<(long SeqNr, PartitionBatch Batch)> events)
    {
        var wanted = events.ToDictionary(e => e.SeqNr, e => e.Batch);
        var entries = new List<BatchEntry>();
        var bytes = 0L;
        // One write's worth an append (entries and bytes), as many appends as it takes.
        foreach (var e in Durable.Exceptions.Values)
        {
            if (!wanted.TryGetValue(e.EventSeqNr, out var batch) || RecordIn(batch, e.Seq) is not { } record) continue;
            if (entries.Count > 0 && (entries.Count >= _o.MaxWriteBatch || bytes + record.Payload.Length > _o.MaxWriteBatchBytes))
            {
                Append(entries.ToArray(), null, null);
                (entries, bytes) = ([], 0);
            }
            entries.Add(new BatchEntry { Kind = EntryKind.Relocated, Seq = e.Seq, Task = record });
            bytes += record.Payload.Length;
        }
        if (entries.Count > 0) Append(entries.ToArray(), null, null);
        _compactionPending = true; // what lies below the moved tasks can go at the next snapshot, also at rest
        ContinueRelocation();
    }

    /// <summary>The task <paramref name="seq"/> as enqueued (or last relocated) in <paramref name="batch"/>.</summary>
    private static TaskRecord? RecordIn(PartitionBatch batch, long seq)
    {
        foreach (var x in batch.Entries)
            if (x.Seq == seq && x.Task is { } task && x.Kind is EntryKind.Enqueued or EntryKind.Relocated) return task;
        return null;
    }
}
