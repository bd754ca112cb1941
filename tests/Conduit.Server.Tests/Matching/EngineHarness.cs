using Conduit.Protocol;
using Conduit.Server.Matching;
using Conduit.Server.Persistence;

namespace Conduit.Server.Tests.Matching;

/// <summary>
/// Drives a <see cref="PartitionEngine"/> without Akka: an in-memory journal stands in for the writer (appends
/// become events when <see cref="Flush"/> runs), reads are served from it, and time is a number the test moves.
/// </summary>
internal sealed class EngineHarness : IPartitionEffects
{
    public static readonly PartitionId Id = PartitionId.Of("q", 0);

    private readonly List<(BatchEntry[] Entries, object? ReplyTo, object? Reply)> _pending = [];
    private readonly Queue<ReadRequest> _reads = new();

    public EngineHarness(PartitionOptions? options = null, DurablePartitionState? log = null)
    {
        Options = options ?? new PartitionOptions();
        Engine = new PartitionEngine(Id, Options, ClaimEpoch(log ?? new DurablePartitionState()), this, () => Now, new Random(42));
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

    public void Reply(object replyTo, object message) => Replies.Add((replyTo, message));

    public void Append(BatchEntry[] entries, object? replyTo, object? reply) => _pending.Add((entries, replyTo, reply));

    public void Read(ReadRequest request) => _reads.Enqueue(request);

    public void SaveSnapshot(PartitionSnapshot snapshot, long seqNr, long deleteEventsUpTo)
    {
        Snapshots++;
        LastSnapshot = (snapshot, seqNr);
        Journal.RemoveAll(e => e.SeqNr <= deleteEventsUpTo);
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

    public void Flush()
    {
        var batch = _pending.ToList();
        _pending.Clear();
        var entries = batch.SelectMany(b => b.Entries).ToArray();
        if (entries.Length > 0)
        {
            var seqNr = (Journal.Count == 0 ? LastSeqNr : Journal[^1].SeqNr) + 1;
            LastSeqNr = seqNr;
            var evt = new PartitionBatch { Entries = entries };
            Journal.Add((seqNr, evt));
            if (HoldNotices) _heldNotices.Enqueue((evt, seqNr));
            else Engine.OnPersisted(evt, seqNr);
        }
        foreach (var (_, to, reply) in batch)
            if (to is not null && reply is not null) Replies.Add((to, reply));
    }

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
        _pending.Clear();
        _reads.Clear();
        PollDeadlines.Clear();
        var log = LastSnapshot is { } s ? DurablePartitionState.FromSnapshot(s.Snapshot, s.SeqNr) : new DurablePartitionState();
        foreach (var (seqNr, batch) in Journal.Where(e => e.SeqNr > (LastSnapshot?.SeqNr ?? 0))) log.Apply(batch, seqNr);
        Engine = new PartitionEngine(Id, Options, ClaimEpoch(log), this, () => Now, new Random(7));
        Settle();
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
