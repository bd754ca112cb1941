using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

/// <summary>
/// The partition's only persistent actor and single writer (after Temporal's <c>taskWriter</c>). Appends wait in
/// its buffer; whenever a write slot is free it turns everything waiting (up to <see cref="PartitionOptions.MaxWriteBatch"/>
/// entries) into one <see cref="PartitionBatch"/> event, persists it, tells the partition, then answers every requester.
/// On start it recovers the partition's durable state, persists a new owner epoch (the fence, see
/// docs/ownership-and-failover.md) and hands the state to the partition. A partition that has never written claims
/// its first epoch with its first write instead (<see cref="ClaimOwnership"/>).
/// </summary>
internal sealed class TaskWriter : UntypedPersistentActor
{
    /// <summary>Make <paramref name="Entries"/> durable, then send <paramref name="Reply"/> to <paramref name="ReplyTo"/>.</summary>
    public sealed record Append(BatchEntry[] Entries, IActorRef? ReplyTo, object? Reply);
    /// <param name="Answered">How many appends this writer has answered so far, in the order it got them (<see cref="UnansweredAppends"/>).</param>
    public sealed record Persisted(PartitionBatch Batch, long SeqNr, long Answered = 0);
    public sealed record Recovered(DurablePartitionState Durable);
    /// <param name="Answered">How many appends this writer answered before it stopped; the partition answers the rest.</param>
    public sealed record Failed(Exception Cause, long Answered = 0);
    public sealed record SaveSnapshotRequest(PartitionSnapshot Snapshot, long SeqNr, long DeleteEventsUpTo);
    /// <summary>Recovery is moving (a snapshot loaded, or another <see cref="ProgressEvery"/> events replayed): the partition's recovery timeout starts again.</summary>
    public sealed class RecoveryProgress
    {
        public static readonly RecoveryProgress Instance = new();
    }
    /// <summary>Events replayed between two <see cref="RecoveryProgress"/> notes.</summary>
    public const int ProgressEvery = 200;
    /// <summary>A snapshot or a delete failed: the partition compacts again when it is quiet.</summary>
    public sealed class CompactionFailed
    {
        public static readonly CompactionFailed Instance = new();
    }

    private sealed class FlushNow
    {
        public static readonly FlushNow Instance = new();
    }

    private readonly string _persistenceId;
    private readonly PartitionOptions _options;
    private readonly IActorRef _partition;
    private readonly LinkedList<Append> _buffer = new();
    private readonly LinkedList<List<Append>> _inFlight = new();
    /// <summary>Events to delete once the snapshot at a sequence number is saved; made with the first snapshot.</summary>
    private Dictionary<long, long>? _deleteAfterSnapshot;
    private DurablePartitionState? _recovering = new();
    /// <summary>The first epoch of a partition that has never written, waiting to lead its first event (<see cref="ClaimOwnership"/>).</summary>
    private BatchEntry? _unwrittenEpoch;
    /// <summary>Appends answered so far, in the order they came (every append is answered exactly once, in order).</summary>
    private long _answered;
    private long _replayed;

    private readonly Metrics.ServerMetrics? _metrics;

    public TaskWriter(string persistenceId, PartitionOptions options, IActorRef partition, Metrics.ServerMetrics? metrics = null)
    {
        _persistenceId = persistenceId;
        _options = options;
        _partition = partition;
        _metrics = metrics;
    }

    /// <param name="metrics">Where each write's size and time are recorded (null: nowhere).</param>
    public static Props Props(string persistenceId, PartitionOptions options, IActorRef partition, Metrics.ServerMetrics? metrics = null) =>
        Akka.Actor.Props.Create(() => new TaskWriter(persistenceId, options, partition, metrics));

    public override string PersistenceId => _persistenceId;

    /// <summary>The partition, for log lines (a structured field with its queue and namespace); the persistence id when it names none.</summary>
    private object PartitionForLog =>
        _persistenceId.StartsWith("partition-", StringComparison.Ordinal) && PartitionId.TryParse(_persistenceId["partition-".Length..], out var id)
            ? id
            : _persistenceId;

    /// <summary>
    /// Whether a <see cref="FlushNow"/> is on its way. Sent by the system scheduler rather than a timer: an actor with
    /// timers holds a timer scheduler and its table from birth (about 140 bytes per partition), and this is its only one.
    /// A late <see cref="FlushNow"/> after an earlier flush writes what is buffered a little sooner, nothing else;
    /// <see cref="PostStop"/> cancels it.
    /// </summary>
    private ICancelable? _flushScheduled;

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer offer when offer.Snapshot is PartitionSnapshot snapshot:
                _recovering = DurablePartitionState.FromSnapshot(snapshot, offer.Metadata.SequenceNr);
                _partition.Tell(RecoveryProgress.Instance);
                break;
            case PartitionBatch batch:
                _recovering!.Apply(batch, LastSequenceNr);
                if (++_replayed % ProgressEvery == 0) _partition.Tell(RecoveryProgress.Instance);
                break;
            case RecoveryCompleted:
                ClaimOwnership();
                break;
        }
    }

    /// <summary>
    /// The first write of every owner: the next epoch. A previous owner still running writes its next event at a
    /// sequence number this one now holds; the journal's unique (persistence_id, sequence_number) index
    /// (<c>journal_uq</c>, on PostgreSQL and SQLite alike) refuses it, and that owner stops.
    /// <para>
    /// A partition that has never written (no event, no snapshot: a new queue, or one only polled) does not write its
    /// epoch on its own. It holds nothing another owner could also hold: every task it will know of comes through its
    /// own writes. So the epoch leads its first event, and the fence is the same: whichever owner writes event 1 first
    /// holds the partition, and the other's first write fails before it has acknowledged, handed out or signed anything
    /// (until then it answers reads from its empty state, as any stale owner answers from memory). Nothing of it can
    /// land after that failure: Akka's persistent actor sends no further events after a failed write, and
    /// Akka.Persistence.Sql writes the events of one write in one transaction. A new queue saves an event and a commit,
    /// and a partition that is only polled writes nothing at all.
    /// </para>
    /// </summary>
    private void ClaimOwnership()
    {
        var recovering = _recovering!;
        var epoch = BatchEntry.Of(EntryKind.OwnerEpochStarted, atMs: recovering.Epoch + 1);
        // The first owner makes the partition's lease key; later owners recover it and so accept the same tokens.
        if (recovering.LeaseKey is null) epoch.LeaseKey = LeaseSigner.NewKey();
        if (LastSequenceNr == 0)
        {
            recovering.Apply(new PartitionBatch { Entries = [epoch] }, 0);
            _unwrittenEpoch = epoch;
            Serve(recovering);
            return;
        }
        Persist(new PartitionBatch { Entries = [epoch] }, started =>
        {
            recovering.Apply(started, LastSequenceNr);
            Serve(recovering);
        });
    }

    private void Serve(DurablePartitionState recovered)
    {
        _partition.Tell(new Recovered(recovered));
        _recovering = null;
    }

    protected override void PostStop()
    {
        _flushScheduled?.Cancel();
        base.PostStop();
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case Append append:
                _buffer.AddLast(append);
                if (!IsAwaited(append) && _inFlight.Count == 0 && !_buffer.Any(IsAwaited))
                {
                    // Nobody waits on it (dispatch hints, expiries): give it a moment to share the next write.
                    _flushScheduled ??= Context.System.Scheduler.ScheduleTellOnceCancelable(
                        TimeSpan.FromMilliseconds(_options.UnawaitedWriteDelayMs), Self, FlushNow.Instance, Self);
                }
                else
                {
                    Flush();
                }
                break;
            case FlushNow:
                _flushScheduled = null;
                Flush();
                break;
            case SaveSnapshotRequest request:
                (_deleteAfterSnapshot ??= [])[request.SeqNr] = request.DeleteEventsUpTo;
                SnapshotStore.Tell(new SaveSnapshot(new SnapshotMetadata(PersistenceId, request.SeqNr, DateTime.UtcNow), request.Snapshot));
                break;
            case SaveSnapshotSuccess saved:
                if (_deleteAfterSnapshot?.Remove(saved.Metadata.SequenceNr, out var upTo) == true && upTo > 0) DeleteMessages(upTo);
                DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1));
                break;
            case SaveSnapshotFailure failed:
                _deleteAfterSnapshot?.Remove(failed.Metadata.SequenceNr);
                Log.Warning(failed.Cause, "Snapshot of {Partition} at {SequenceNr} failed; the journal is kept", PartitionForLog, failed.Metadata.SequenceNr);
                _partition.Tell(CompactionFailed.Instance);
                break;
            case DeleteMessagesFailure failed:
                Log.Warning(failed.Cause, "Deleting events of {Partition} up to {SequenceNr} failed", PartitionForLog, failed.ToSequenceNr);
                _partition.Tell(CompactionFailed.Instance);
                break;
            case DeleteMessagesSuccess or DeleteSnapshotsSuccess or DeleteSnapshotsFailure:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Flush()
    {
        while (_inFlight.Count < _options.MaxWritesInFlight && _buffer.First is not null)
        {
            var appends = new List<Append>();
            var entries = new List<BatchEntry>();
            var bytes = 0;
            while (_buffer.First is { } node
                   && (appends.Count == 0 || (entries.Count + node.Value.Entries.Length <= _options.MaxWriteBatch
                                              && bytes + PayloadBytes(node.Value) <= _options.MaxWriteBatchBytes)))
            {
                _buffer.RemoveFirst();
                appends.Add(node.Value);
                entries.AddRange(node.Value.Entries);
                bytes += PayloadBytes(node.Value);
            }
            if (entries.Count == 0)
            {
                // Nothing to write (say, only duplicates): answer once everything written before is durable.
                if (_inFlight.Last is { } last) last.Value.AddRange(appends);
                else Answer(appends);
                continue;
            }
            Write(appends, entries);
        }
    }

    /// <summary>One event per write slot, on purpose: each event already carries a whole batch.</summary>
    private void Write(List<Append> appends, List<BatchEntry> entries)
    {
        _inFlight.AddLast(appends);
        // Once per event, never per task: its size now, its time when the journal confirms it.
        var started = _metrics is { } metrics && metrics.WriteDuration.Enabled ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        if (_metrics is { } m && m.WriteBatchSize.Enabled) m.WriteBatchSize.Record(entries.Count);
        // The partition's own entries, told back as they were asked for; a first epoch still unwritten leads the event.
        var asked = new PartitionBatch { Entries = entries.ToArray() };
        var written = _unwrittenEpoch is { } epoch ? new PartitionBatch { Entries = [epoch, .. asked.Entries] } : asked;
        _unwrittenEpoch = null;
        PersistAsync(written, _ =>
        {
            if (started != 0) _metrics!.WriteDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            var done = _inFlight.First!.Value;
            _inFlight.RemoveFirst();
            _partition.Tell(new Persisted(asked, LastSequenceNr, _answered + done.Count));
            Answer(done);
            Flush();
        });
    }

    /// <summary>Whether someone waits for the append's answer (an answer bound for the task history with nobody behind it does not count).</summary>
    private static bool IsAwaited(Append append) =>
        append.ReplyTo is not null && append.Reply is not History.TaskHistoryActor.RecordThenReply { ReplyTo: null };

    private static int PayloadBytes(Append append)
    {
        var bytes = 0;
        foreach (var e in append.Entries) bytes += e.Task?.Payload.Length ?? 0;
        return bytes;
    }

    private void Answer(List<Append> appends)
    {
        _answered += appends.Count;
        foreach (var a in appends)
            if (a.ReplyTo is not null && a.Reply is not null) a.ReplyTo.Tell(a.Reply);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Log.Error(cause, "Write {SequenceNr} of {Partition} failed; the partition stops and recovers from the journal", sequenceNr, PartitionForLog);
        FailEverything(cause);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Log.Error(cause, "Write {SequenceNr} of {Partition} was rejected; the partition stops and recovers from the journal", sequenceNr, PartitionForLog);
        FailEverything(cause);
        Context.Stop(Self);
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        Log.Error(reason, "Recovery of {Partition} failed", PartitionForLog);
        _partition.Tell(new Failed(reason));
        base.OnRecoveryFailure(reason, message);
    }

    /// <summary>Nothing waiting here became durable: tell every requester so, and the partition, which restarts.</summary>
    private void FailEverything(Exception cause)
    {
        var unavailable = new Rejected(ErrorCode.Unavailable, $"storage write failed: {cause.Message}");
        foreach (var a in _inFlight.SelectMany(x => x).Concat(_buffer))
        {
            // An answer bound for the task history (History.TaskHistoryActor.RecordThenReply) goes to its requester instead.
            var requester = a.Reply is History.TaskHistoryActor.RecordThenReply viaHistory ? viaHistory.ReplyTo : a.ReplyTo;
            requester?.Tell(unavailable);
            _answered++;
        }
        _inFlight.Clear();
        _buffer.Clear();
        _partition.Tell(new Failed(cause, _answered));
    }
}
