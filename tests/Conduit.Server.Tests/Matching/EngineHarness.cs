using Conduit.Protocol;
using Conduit.Server.History;
using Conduit.Server.Matching;
using Conduit.Server.Persistence;

namespace Conduit.Server.Tests.Matching;

/// <summary>
/// Drives a <see cref="PartitionEngine"/> without Akka: an in-memory journal stands in for the writer (appends
/// become events when <see cref="Flush"/> runs, split like <c>TaskWriter</c> splits them), reads are served from it,
/// and time is a number the test moves.
/// <para>
/// Timing knobs, each off by default (then every write is durable, readable, acknowledged and noticed in one step):
/// <see cref="HoldNotices"/> (a write is readable by page-ins before the partition hears it is durable),
/// <see cref="AutoRead"/> off (reads wait; answer them late with <see cref="ServeOneRead"/>, fail them with
/// <see cref="FailOneRead"/>, or after a <see cref="Crash"/> hand them to the new incarnation with <see cref="AnswerStaleReads"/>),
/// <see cref="HoldSnapshots"/>, <see cref="FailSnapshots"/> and <see cref="FailDeletes"/> (snapshot saves and the deletes
/// after them late or failing), <see cref="FailNextWrite"/> (a write fails, written or not, and the partition recovers).
/// </para>
/// </summary>
internal sealed class EngineHarness : IPartitionEffects
{
    public static readonly PartitionId Id = PartitionId.Of("q", 0);

    private readonly List<(BatchEntry[] Entries, object? ReplyTo, object? Reply)> _pending = [];
    private readonly Queue<ReadRequest> _reads = new();

    public EngineHarness(PartitionOptions? options = null, DurablePartitionState? log = null)
    {
        Options = options ?? new PartitionOptions();
        Engine = new PartitionEngine(Id, Options, ClaimEpoch(log ?? new DurablePartitionState()), this, () => Now, new Random(42), Stats);
    }

    /// <summary>What the writer does before the engine starts: a new owner epoch, with the lease key on the first.</summary>
    private DurablePartitionState ClaimEpoch(DurablePartitionState log)
    {
        var entry = BatchEntry.Of(EntryKind.OwnerEpochStarted, atMs: log.Epoch + 1);
        if (log.LeaseKey is null) entry.LeaseKey = LeaseSigner.NewKey();
        var seqNr = Math.Max(Journal.Count == 0 ? LastSeqNr : Journal[^1].SeqNr, log.LastEventSeqNr) + 1;
        LastSeqNr = seqNr;
        var batch = new PartitionBatch { Entries = [entry] };
        Journal.Add((seqNr, batch));
        log.Apply(batch, seqNr);
        return log;
    }

    public PartitionOptions Options { get; }
    /// <summary>What the node's metrics read of this partition; kept across <see cref="Crash"/>es, as the actor keeps it.</summary>
    public Conduit.Server.Metrics.PartitionStats Stats { get; } = new(Id.Namespace, Id.Queue);
    /// <summary>The journal without the owner epochs the harness writes on each (re)start: what requests wrote.</summary>
    public List<(long SeqNr, PartitionBatch Batch)> Writes =>
        Journal.Where(e => e.Batch.Entries.Any(x => x.Kind != EntryKind.OwnerEpochStarted)).ToList();
    public PartitionEngine Engine { get; private set; }
    public long Now { get; set; } = 1_000_000;
    public List<(long SeqNr, PartitionBatch Batch)> Journal { get; } = [];
    public List<(object To, object Message)> Replies { get; } = [];
    public Dictionary<long, long> PollDeadlines { get; } = new();
    public int Snapshots { get; private set; }
    public (PartitionSnapshot Snapshot, long SeqNr)? LastSnapshot { get; private set; }
    public bool AutoFlush { get; set; } = true;
    public bool AutoRead { get; set; } = true;

    public void Reply(object replyTo, object message) => AddReply(replyTo, message);

    /// <summary>For each of <see cref="Replies"/>: the last event the engine had been told of when it was given.</summary>
    public List<long> NoticedAtReply { get; } = [];

    /// <summary>The event each enqueued task was written in (by task sequence number), kept after deletes.</summary>
    public Dictionary<long, long> EventOfTask { get; } = new();

    private void AddReply(object to, object message)
    {
        Replies.Add((to, message));
        NoticedAtReply.Add(Engine?.Durable.LastEventSeqNr ?? 0);
    }

    public void Append(BatchEntry[] entries, object? replyTo, object? reply, HistoryRecord[]? history = null)
    {
        _pending.Add((entries, replyTo, reply));
        if (history is not null) HistoryAfterWrites.AddRange(history);
    }

    /// <summary>Whether the engine makes task history records (on by default, so every engine test runs that code).</summary>
    public bool KeepsHistory { get; set; } = true;

    /// <summary>History records the engine sent at once (deliveries started).</summary>
    public List<HistoryRecord> HistoryNow { get; } = [];

    /// <summary>History records the engine attached to appends (written once the append is durable).</summary>
    public List<HistoryRecord> HistoryAfterWrites { get; } = [];

    public void History(HistoryRecord[] records) => HistoryNow.AddRange(records);

    public void Describe(object replyTo, TaskInfo info) => AddReply(replyTo, info);

    /// <summary>Settled listings asked of the history (the harness has none to answer them).</summary>
    public List<ListTasks> SettledListings { get; } = [];

    public void ListSettled(object replyTo, ListTasks list, TaskListCursor? cursor) => SettledListings.Add(list);

    public void Read(ReadRequest request) => _reads.Enqueue(request);

    public void SaveSnapshot(PartitionSnapshot snapshot, long seqNr, long deleteEventsUpTo)
    {
        if (HoldSnapshots) { _heldSnapshots.Enqueue((snapshot, seqNr, deleteEventsUpTo)); return; }
        StoreSnapshot(snapshot, seqNr, deleteEventsUpTo, Engine);
    }

    /// <summary>The snapshot store and the delete after it, as <c>TaskWriter</c> drives them; a failure is reported to <paramref name="engine"/> if it still runs.</summary>
    private void StoreSnapshot(PartitionSnapshot snapshot, long seqNr, long deleteEventsUpTo, PartitionEngine? engine)
    {
        if (FailSnapshots)
        {
            FailedCompactions++;
            engine?.OnCompactionFailed();
            return;
        }
        Snapshots++;
        if (LastSnapshot is not { } last || last.SeqNr <= seqNr) LastSnapshot = (snapshot, seqNr);
        if (engine is null || deleteEventsUpTo <= 0) return; // the writer that would delete is gone
        if (FailDeletes)
        {
            FailedCompactions++;
            engine.OnCompactionFailed();
            return;
        }
        Journal.RemoveAll(e => e.SeqNr <= deleteEventsUpTo);
    }

    private readonly Queue<(PartitionSnapshot Snapshot, long SeqNr, long DeleteUpTo)> _heldSnapshots = new();

    /// <summary>Snapshot saves wait until <see cref="CompleteSnapshots"/> (the store is slow, say behind SQLite's lock).</summary>
    public bool HoldSnapshots { get; set; }
    /// <summary>Snapshot saves fail (the engine is told, as <c>TaskWriter.CompactionFailed</c> tells it).</summary>
    public bool FailSnapshots { get; set; }
    /// <summary>Snapshots save but the deletes after them fail (the engine is told).</summary>
    public bool FailDeletes { get; set; }
    public int FailedCompactions { get; private set; }
    public int HeldSnapshotCount => _heldSnapshots.Count;

    /// <summary>Saves the held snapshots in order (and deletes after each), now.</summary>
    public void CompleteSnapshots()
    {
        while (_heldSnapshots.TryDequeue(out var held)) StoreSnapshot(held.Snapshot, held.SeqNr, held.DeleteUpTo, Engine);
    }

    public void SchedulePollDeadline(long pollId, long delayMs) => PollDeadlines[pollId] = Now + delayMs;

    public void CancelPollDeadline(long pollId) => PollDeadlines.Remove(pollId);

    /// <summary>Sends a request, then lets the writer and reader catch up.</summary>
    public void Send(object from, IPartitionRequest request)
    {
        Engine.Handle(from, request);
        Settle();
    }

    /// <summary>Writes everything appended as one event, answers its requesters, serves reads, until quiet.</summary>
    public void Settle()
    {
        for (var guard = 0; guard < 10_000; guard++)
        {
            if (AutoFlush && _pending.Count > 0) { Flush(); continue; }
            if (AutoRead && _reads.Count > 0) { ServeRead(); continue; }
            return;
        }
        throw new InvalidOperationException("the engine did not settle");
    }

    /// <summary>
    /// Writes everything appended, as <c>TaskWriter</c> would: whole appends, up to <see cref="PartitionOptions.MaxWriteBatch"/>
    /// entries or <see cref="PartitionOptions.MaxWriteBatchBytes"/> payload bytes an event; each event is durable and readable,
    /// then noticed by the partition (or held, <see cref="HoldNotices"/>), then its requesters are answered.
    /// </summary>
    public void Flush()
    {
        while (_pending.Count > 0)
        {
            var batch = new List<(BatchEntry[] Entries, object? ReplyTo, object? Reply)>();
            int count = 0, bytes = 0;
            while (_pending.Count > 0 && (batch.Count == 0
                   || (count + _pending[0].Entries.Length <= Options.MaxWriteBatch && bytes + Bytes(_pending[0].Entries) <= Options.MaxWriteBatchBytes)))
            {
                var next = _pending[0];
                _pending.RemoveAt(0);
                batch.Add(next);
                count += next.Entries.Length;
                bytes += Bytes(next.Entries);
            }
            var entries = batch.SelectMany(b => b.Entries).ToArray();
            if (entries.Length > 0 && _failNextWrite is { } written)
            {
                _failNextWrite = null;
                if (written) Record(LastSeqNr = NextSeqNr(), new PartitionBatch { Entries = entries });
                FailWrite(batch);
                return;
            }
            if (entries.Length > 0)
            {
                var seqNr = LastSeqNr = NextSeqNr();
                var evt = new PartitionBatch { Entries = entries };
                Record(seqNr, evt);
                if (HoldNotices) _heldNotices.Enqueue((evt, seqNr));
                else Engine.OnPersisted(evt, seqNr);
            }
            foreach (var (_, to, reply) in batch)
                if (to is not null && reply is not null) AddReply(to, reply);
        }
    }

    private void Record(long seqNr, PartitionBatch evt)
    {
        Journal.Add((seqNr, evt));
        foreach (var e in evt.Entries)
            if (e.Kind == EntryKind.Enqueued) EventOfTask[e.Seq] = seqNr;
    }

    private long NextSeqNr() => Math.Max(LastSeqNr, Journal.Count == 0 ? 0 : Journal[^1].SeqNr) + 1;

    private static int Bytes(BatchEntry[] entries)
    {
        var bytes = 0;
        foreach (var e in entries) bytes += e.Task?.Payload.Length ?? 0;
        return bytes;
    }

    private bool? _failNextWrite;

    /// <summary>
    /// The next write fails; <paramref name="writtenAnyway"/>: it reached the journal all the same (a timeout after the
    /// commit). As with <c>TaskWriter</c>: every requester waiting on a write is told Unavailable, and the partition drops its
    /// state and recovers from the journal.
    /// </summary>
    public void FailNextWrite(bool writtenAnyway) => _failNextWrite = writtenAnyway;

    /// <summary>No more failing writes, snapshots or deletes.</summary>
    public void ClearFaults()
    {
        _failNextWrite = null;
        FailSnapshots = FailDeletes = false;
    }

    private void FailWrite(List<(BatchEntry[] Entries, object? ReplyTo, object? Reply)> failed)
    {
        foreach (var (_, to, _) in failed.Concat(_pending))
            if (to is not null) AddReply(to, new Rejected(ErrorCode.Unavailable, "storage write failed"));
        _pending.Clear();
        WriteFailures++;
        Crash();
    }

    public int WriteFailures { get; private set; }

    public long LastSeqNr { get; private set; }

    private readonly Queue<(PartitionBatch Batch, long SeqNr)> _heldNotices = new();

    /// <summary>
    /// Writes become durable and readable at once, but the partition hears of them only at <see cref="ReleaseNotices"/>:
    /// the durability notice travels through the writer's mailbox while reads go straight to the journal.
    /// </summary>
    public bool HoldNotices { get; set; }

    /// <summary>Tells the engine of every write held back, in order.</summary>
    public void ReleaseNotices()
    {
        while (_heldNotices.TryDequeue(out var held)) Engine.OnPersisted(held.Batch, held.SeqNr);
        Settle();
    }

    /// <summary>Tells the engine of the oldest write held back; false when none is.</summary>
    public bool ReleaseOneNotice()
    {
        if (!_heldNotices.TryDequeue(out var held)) return false;
        Engine.OnPersisted(held.Batch, held.SeqNr);
        return true;
    }

    public int HeldNoticeCount => _heldNotices.Count;

    /// <summary>The last event the engine has been told is durable.</summary>
    public long NoticedUpTo => Engine.Durable.LastEventSeqNr;

    /// <summary>Fails the oldest read asked for (storage trouble); false when none waits.</summary>
    public bool FailOneRead()
    {
        if (!_reads.TryDequeue(out var request)) return false;
        Engine.OnReadFailed(request);
        return true;
    }

    private readonly List<ReadRequest> _staleReads = [];

    /// <summary>Reads an earlier incarnation asked for and never got (a <see cref="Crash"/> came first).</summary>
    public IReadOnlyList<ReadRequest> StaleReads => _staleReads;

    /// <summary>Hands the pages of earlier incarnations' reads to the engine running now, as a late reader would.</summary>
    public void AnswerStaleReads()
    {
        foreach (var request in _staleReads) Answer(request);
        _staleReads.Clear();
    }

    /// <summary>
    /// Makes the world quiet: every held notice told, held snapshots saved (or failed, as set), every write and read
    /// done, a tick, until nothing is left to do. Faults set stay set; holds are lifted.
    /// </summary>
    public void Quiesce()
    {
        HoldNotices = false;
        HoldSnapshots = false;
        AutoFlush = AutoRead = true;
        while (_heldNotices.TryDequeue(out var held)) Engine.OnPersisted(held.Batch, held.SeqNr);
        CompleteSnapshots();
        Settle();
        Engine.OnTick();
        Settle();
        CompleteSnapshots();
    }

    /// <summary>Answers the oldest read asked for (with <see cref="AutoRead"/> off, to interleave by hand).</summary>
    public void ServeOneRead() => ServeRead();

    /// <summary>Reads asked for and not yet answered (with <see cref="AutoRead"/> off).</summary>
    public IReadOnlyCollection<ReadRequest> PendingReads => _reads;

    /// <summary>The page the journal holds now for <paramref name="request"/>, handed to the engine now (late, or to another incarnation).</summary>
    public void Answer(ReadRequest request) => Engine.OnJournalPage(new JournalPage(request, EventsFor(request)));

    private void ServeRead()
    {
        var request = _reads.Dequeue();
        Engine.OnJournalPage(new JournalPage(request, EventsFor(request)));
    }

    private List<(long SeqNr, PartitionBatch Batch)> EventsFor(ReadRequest request) => request switch
    {
        ScanRequest s => Journal.Where(e => e.SeqNr >= s.FromSeqNr).Take(s.MaxEvents).ToList(),
        FetchRequest f => Journal.Where(e => f.EventSeqNrs.Contains(e.SeqNr)).ToList(),
        _ => [],
    };

    public void Advance(long ms)
    {
        Now += ms;
        foreach (var (id, at) in PollDeadlines.ToList())
        {
            if (at > Now) continue;
            PollDeadlines.Remove(id);
            Engine.OnPollDeadline(id);
        }
        Engine.OnTick();
        Settle();
    }

    /// <summary>Rebuilds the engine from the journal (and the last snapshot), as a restart would.</summary>
    public void Restart()
    {
        Crash();
        Settle();
    }

    public int Crashes { get; private set; }

    /// <summary>
    /// The partition loses its state (storage trouble, a crash) and recovers from the last snapshot and the journal with
    /// a new engine. What was appended and not written is lost, unanswered; notices not yet told are lost; snapshot saves
    /// already sent land (the old writer no longer deletes after them); reads in flight become <see cref="StaleReads"/>;
    /// waiting pollers are dropped (the actor answers them Unavailable).
    /// </summary>
    public void Crash()
    {
        Crashes++;
        _pending.Clear();
        _heldNotices.Clear();
        _staleReads.AddRange(_reads);
        _reads.Clear();
        PollDeadlines.Clear();
        while (_heldSnapshots.TryDequeue(out var held)) StoreSnapshot(held.Snapshot, held.SeqNr, held.DeleteUpTo, engine: null);
        var log = LastSnapshot is { } s ? DurablePartitionState.FromSnapshot(s.Snapshot, s.SeqNr) : new DurablePartitionState();
        foreach (var (seqNr, batch) in Journal.Where(e => e.SeqNr > (LastSnapshot?.SeqNr ?? 0))) log.Apply(batch, seqNr);
        Engine = new PartitionEngine(Id, Options, ClaimEpoch(log), this, () => Now, new Random(7 + Crashes), Stats);
    }

    public T LastReplyTo<T>(object to) => Replies.Where(r => ReferenceEquals(r.To, to)).Select(r => r.Message).OfType<T>().Last();

    public List<object> RepliesTo(object to) => Replies.Where(r => ReferenceEquals(r.To, to)).Select(r => r.Message).ToList();

    public static TaskSpec Spec(string payload, int priority = TaskSpec.DefaultPriority, long delayMs = 0, string? key = null, int maxAttempts = 0) =>
        new(System.Text.Encoding.UTF8.GetBytes(payload), Priority: priority, DelayMs: delayMs, IdempotencyKey: key, MaxAttempts: maxAttempts);

    public Enqueued Enqueue(string payload, int priority = TaskSpec.DefaultPriority, long delayMs = 0, string? key = null, int maxAttempts = 0)
    {
        var producer = new object();
        Send(producer, new Enqueue("q", Spec(payload, priority, delayMs, key, maxAttempts)));
        return LastReplyTo<Enqueued>(producer);
    }

    public LeasedTask[] Poll(int max = 1, long waitMs = 0, long leaseMs = 0)
    {
        var worker = new object();
        Send(worker, new Poll("q", max, waitMs, leaseMs));
        return RepliesTo(worker).OfType<Polled>().LastOrDefault()?.Tasks ?? [];
    }

    public object Call(IPartitionRequest request)
    {
        var caller = new object();
        Send(caller, request);
        return RepliesTo(caller).Last();
    }

    public static string Text(LeasedTask t) => System.Text.Encoding.UTF8.GetString(t.Payload);
}
