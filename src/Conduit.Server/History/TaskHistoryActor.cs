using Akka;
using Akka.Actor;
using Akka.Event;

namespace Conduit.Server.History;

/// <summary>
/// A task-service node's task history (docs/results.md): one writer for the node's partitions, turning their changes
/// into one transaction at a time (what arrives during a write goes in the next; one request's changes are never
/// split). A completion's result is written before its worker is answered: the partition's writer hands the answer here
/// (<see cref="RecordThenReply"/>) once the journal has the completion, and this sends it on once the history has it too.
/// Reads (<see cref="TaskHistoryReader.IRead"/>) go to its child <see cref="TaskHistoryReader"/>; trimming and the
/// listing index are its child <see cref="TaskHistoryHousekeeper"/>'s.
/// </summary>
internal sealed class TaskHistoryActor : ReceiveActor, IWithTimers
{
    public const string Name = "task-history";

    /// <summary>Changes nobody waits for (a delivery started); dropped when the buffer is full.</summary>
    public sealed record Record(HistoryRecord[] Records);

    /// <summary>Write <paramref name="Records"/>, then send <paramref name="Reply"/> to <paramref name="ReplyTo"/> (if any).</summary>
    public sealed record RecordThenReply(HistoryRecord[] Records, IActorRef? ReplyTo, object? Reply);

    /// <summary>Answered with <see cref="Done"/> once everything buffered is written (or dropped): the node's shutdown waits for it.</summary>
    public sealed class Drain
    {
        public static readonly Drain Instance = new();
    }

    /// <summary>Most bytes of changes held while the database is slow or away; past it changes are dropped (and completions told so).</summary>
    public const long MaxBufferedBytes = 64L << 20;
    /// <summary>Most changes in one transaction (one request's changes always go together).</summary>
    public const int MaxWriteRecords = 2000;
    /// <summary>A write that fails is tried again (<see cref="TaskHistoryOptions.RetryIntervalMs"/>, 1 s); after this many tries its changes, and all that wait behind them, are dropped and their requesters told.</summary>
    public const int MaxWriteTries = 10;

    private sealed record Written(int Generation);
    private sealed record WriteFailed(int Generation, Exception Cause);
    private sealed record Created;
    private sealed record CreateFailed(Exception Cause);
    private sealed class CreateAgain { public static readonly CreateAgain Instance = new(); }
    private sealed class RetryWrite { public static readonly RetryWrite Instance = new(); }
    private sealed class LingerOver { public static readonly LingerOver Instance = new(); }

    /// <summary>One request's changes and the answer that waits for them (<paramref name="AtMs"/>: when it came, <see cref="Environment.TickCount64"/>).</summary>
    private sealed class Item(HistoryRecord[] records, IActorRef? replyTo, object? reply, long bytes, long atMs)
    {
        public HistoryRecord[] Records { get; } = records;
        public IActorRef? ReplyTo { get; } = replyTo;
        public object? Reply { get; } = reply;
        public long Bytes { get; } = bytes;
        public long AtMs { get; } = atMs;
        /// <summary>Its requester has been answered (or nobody waits).</summary>
        public bool Answered { get; set; } = replyTo is null || reply is null;

        /// <summary>A result rides on it: if it cannot be written the requester must hear so; otherwise only attempt history is lost.</summary>
        public bool CarriesResult => Records.Any(r => r.Output is not null);
    }

    /// <summary>How long a completion with a result waits for the history before it is answered that its result may not have been kept.</summary>
    public const long MaxAnswerWaitMs = 10_000;

    private readonly TaskHistoryStore _store;
    private readonly TaskHistoryOptions _options;
    private readonly Func<long> _now;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly Queue<Item> _buffer = new();
    /// <summary>Bytes of the buffer and the write under way (with the lingering starts', <see cref="HeldBytes"/>).</summary>
    private long _bufferedBytes;
    /// <summary>Starts (<see cref="Record"/>) that wait for their task's next change, so both are written as one row.</summary>
    private readonly LingeringStarts _starts;
    /// <summary>What <see cref="MaxBufferedBytes"/> bounds: the buffer, the write under way and the lingering starts.</summary>
    private long HeldBytes => _bufferedBytes + _starts.Bytes;
    private List<Item>? _writing;
    /// <summary>Tells a write's outcome from an earlier one's (a write outlives nothing, but a late message must not finish the wrong one).</summary>
    private int _generation;
    private int _tries;
    private bool _created;
    private long _dropped;
    private long _lastDropLogMs;
    private readonly List<IActorRef> _drainers = [];

    /// <summary>The reads (<see cref="TaskHistoryReader"/>), a child: they never wait behind a write.</summary>
    private IActorRef _reader = ActorRefs.Nobody;
    /// <summary>The trimming and the listing index (<see cref="TaskHistoryHousekeeper"/>), a child, told when the table exists.</summary>
    private IActorRef _housekeeper = ActorRefs.Nobody;

    public ITimerScheduler Timers { get; set; } = null!;

    public TaskHistoryActor(TaskHistoryStore store, TaskHistoryOptions options, Func<long>? now = null)
    {
        _store = store;
        _options = options;
        _now = now ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        _starts = new LingeringStarts(options.LingerMs);

        Receive<Record>(r => Linger(r.Records));
        Receive<RecordThenReply>(r => Buffer(new Item(r.Records, r.ReplyTo, r.Reply, BytesOf(r.Records), Environment.TickCount64)));
        Receive<LingerOver>(_ => Flush());
        Receive<TaskHistoryReader.IRead>(read => _reader.Forward(read));
        Receive<Drain>(_ =>
        {
            _drainers.Add(Sender);
            Flush();
        });
        Receive<Created>(_ =>
        {
            _created = true;
            _tries = 0;
            Flush();
            _housekeeper.Tell(TaskHistoryHousekeeper.TableReady.Instance);
        });
        Receive<CreateFailed>(f =>
        {
            if (_tries++ == 0)
                _log.Warning("Task history: creating its table failed ({Cause}); trying again", SafeText.Escape(f.Cause.Message, 300));
            // Completions do not wait for ever: after as many tries as a write gets, what waits is dropped and answered.
            if (_tries >= MaxWriteTries) DropAll(_buffer.ToList(), f.Cause);
            else AnswerOverdue(f.Cause);
            Timers.StartSingleTimer("create", CreateAgain.Instance, TimeSpan.FromMilliseconds(_options.RetryIntervalMs));
        });
        Receive<CreateAgain>(_ => Create());
        Receive<Written>(w => w.Generation == _generation && _writing is not null, _ => WriteDone());
        Receive<WriteFailed>(w => w.Generation == _generation && _writing is not null, OnWriteFailed);
        // The write that failed, again (nothing else is written meanwhile: changes stay in order).
        Receive<RetryWrite>(_ => _writing is not null, _ => Write());
    }

    public static Props Props(TaskHistoryStore store, TaskHistoryOptions options, Func<long>? now = null) =>
        Akka.Actor.Props.Create(() => new TaskHistoryActor(store, options, now));

    private static long BytesOf(HistoryRecord[] records)
    {
        long bytes = 0;
        foreach (var r in records) bytes += r.Bytes;
        return bytes;
    }

    protected override void PreStart()
    {
        _reader = Context.ActorOf(TaskHistoryReader.Props(_store), TaskHistoryReader.Name);
        _housekeeper = Context.ActorOf(TaskHistoryHousekeeper.Props(_store, _options, _now), TaskHistoryHousekeeper.Name);
        Create();
    }

    /// <summary>Whoever still waits is answered: the node stops (its shutdown drained the buffer first, see <see cref="Drain"/>).</summary>
    protected override void PostStop()
    {
        // A write under way may still commit: its requesters hear that the result may not have been kept.
        DropAll((_writing ?? []).Concat(_buffer).ToList(), new Exception("the node stopped before the write was confirmed"));
        foreach (var drainer in _drainers) drainer.Tell(Done.Instance);
    }

    private void Create()
    {
        var self = Self;
        var deadline = new CancellationTokenSource(TaskHistoryStore.OperationTimeout);
        _store.EnsureCreatedAsync(deadline.Token).ContinueWith(t =>
        {
            deadline.Dispose();
            self.Tell(t.IsCompletedSuccessfully ? new Created() : new CreateFailed(TaskHistoryStore.FailureOf(t)));
        }, TaskScheduler.Default);
    }

    private void Buffer(Item item)
    {
        // Only a result needs the history before its answer; anything else is answered now (the journal has it).
        if (!item.Answered && !item.CarriesResult)
        {
            item.ReplyTo!.Tell(item.Reply!);
            item.Answered = true;
        }
        if (HeldBytes + item.Bytes > MaxBufferedBytes)
        {
            CountDropped(item.Records.Length);
            foreach (var r in item.Records) _starts.TryTake(r.TaskId, out _); // written alone later, it would show a delivery that never ends
            Answer(item, written: false, "the node's task history is full");
            return;
        }
        if (item.Records.Length == 0) return;
        // A task's lingering start goes first, in the same write: start and end become one row.
        foreach (var r in item.Records)
            if (_starts.TryTake(r.TaskId, out var start)) BufferStart(start, item.AtMs);
        _buffer.Enqueue(item);
        _bufferedBytes += item.Bytes;
        Flush();
    }

    private void CountDropped(long count)
    {
        _dropped += count;
        var now = Environment.TickCount64;
        if (now - _lastDropLogMs <= 60_000) return;
        _lastDropLogMs = now;
        _log.Warning("Task history: {Dropped} changes dropped so far: {Bytes} bytes wait to be written (the database is slow or away)", _dropped, HeldBytes);
    }

    /// <summary>A start that stops lingering goes to the buffer, to be written (nobody waits for it).</summary>
    private void BufferStart(HistoryRecord start, long atMs)
    {
        _buffer.Enqueue(new Item([start], null, null, start.Bytes, atMs));
        _bufferedBytes += start.Bytes;
    }

    /// <summary>Starts wait a moment for their task's next change (see <see cref="_starts"/>).</summary>
    private void Linger(HistoryRecord[] starts)
    {
        var now = Environment.TickCount64;
        foreach (var start in starts)
        {
            if (HeldBytes + start.Bytes > MaxBufferedBytes)
            {
                CountDropped(1);
                continue;
            }
            // A second start of the same task (its delivery was given back): the first is written as it is, first.
            if (_starts.Add(start, now) is { } earlier) BufferStart(earlier, now);
        }
        Flush();
    }

    private void Flush()
    {
        if (!_created || _writing is not null)
        {
            AnswerDrainersIfIdle();
            return;
        }
        ReleaseOldStarts();
        if (_buffer.Count == 0)
        {
            AnswerDrainersIfIdle();
            return;
        }
        var batch = new List<Item>();
        var records = 0;
        while (_buffer.TryPeek(out var next) && (batch.Count == 0 || records + next.Records.Length <= MaxWriteRecords))
        {
            batch.Add(_buffer.Dequeue());
            records += next.Records.Length;
        }
        _writing = batch;
        Write();
    }

    /// <summary>Starts that lingered long enough (all of them while the node stops) join the buffer; a timer comes back for the next.</summary>
    private void ReleaseOldStarts()
    {
        var now = Environment.TickCount64;
        foreach (var (start, atMs) in _drainers.Count > 0 ? _starts.ReleaseAll() : _starts.ReleaseDue(now))
            BufferStart(start, atMs);
        if (_starts.NextDueInMs(now) is { } dueInMs && !Timers.IsTimerActive("linger"))
            Timers.StartSingleTimer("linger", LingerOver.Instance, TimeSpan.FromMilliseconds(dueInMs));
    }

    private void Write()
    {
        var self = Self;
        var generation = ++_generation;
        var records = _writing!.SelectMany(i => i.Records).ToList();
        // A deadline, not the node's stop: a write under way finishes, so an answer already given stays true.
        var deadline = new CancellationTokenSource(TaskHistoryStore.OperationTimeout);
        _store.WriteAsync(records, _now(), deadline.Token).ContinueWith(t =>
        {
            deadline.Dispose();
            self.Tell(t.IsCompletedSuccessfully ? new Written(generation) : new WriteFailed(generation, TaskHistoryStore.FailureOf(t)));
        }, TaskScheduler.Default);
    }

    private void WriteDone()
    {
        var done = _writing!;
        _writing = null;
        _tries = 0;
        foreach (var item in done)
        {
            _bufferedBytes -= item.Bytes;
            Answer(item, written: true, null);
        }
        Flush();
    }

    private void OnWriteFailed(WriteFailed failed)
    {
        if (++_tries < MaxWriteTries)
        {
            if (_tries == 1)
                _log.Warning("Task history: writing {Count} changes failed ({Cause}); trying again",
                    _writing!.Sum(i => i.Records.Length), SafeText.Escape(failed.Cause.Message, 300));
            Timers.StartSingleTimer("retry", RetryWrite.Instance, TimeSpan.FromMilliseconds(_options.RetryIntervalMs));
            AnswerOverdue(failed.Cause);
            return;
        }
        // The database has been failing for MaxWriteTries seconds: nothing waiting behind this write would fare better,
        // and its requesters have waited long enough. Everything is dropped and answered now.
        var all = _writing!.Concat(_buffer).ToList();
        _log.Error("Task history: {Count} changes dropped after {Tries} failed writes ({Cause})",
            all.Sum(i => i.Records.Length), _tries, SafeText.Escape(failed.Cause.Message, 300));
        _writing = null;
        _tries = 0;
        DropAll(all, failed.Cause);
        Flush();
    }

    /// <summary>Completions that waited <see cref="MaxAnswerWaitMs"/> for a history that keeps failing hear so now; their changes stay, to be written if it recovers.</summary>
    private void AnswerOverdue(Exception cause)
    {
        var now = Environment.TickCount64;
        foreach (var item in (_writing ?? []).Concat(_buffer))
            if (!item.Answered && now - item.AtMs >= MaxAnswerWaitMs) Answer(item, written: false, SafeText.Escape(cause.Message, 200));
    }

    /// <summary>Drops <paramref name="items"/> (the buffer, and the write in flight if among them), answering each requester.</summary>
    private void DropAll(List<Item> items, Exception cause)
    {
        foreach (var item in items)
        {
            _dropped += item.Records.Length;
            Answer(item, written: false, SafeText.Escape(cause.Message, 200));
        }
        _buffer.Clear();
        _bufferedBytes = 0;
        _dropped += _starts.Clear();
        AnswerDrainersIfIdle();
    }

    /// <summary>
    /// Sends an item's answer on, once. Its changes are durable in the journal either way. When they could not be written
    /// here (or not in time), the leases whose results rode on them hear that their result may not have been kept
    /// (<c>Unavailable</c>); the rest of the answer is the real one.
    /// </summary>
    private static void Answer(Item item, bool written, string? why)
    {
        if (item.Answered) return;
        item.Answered = true;
        if (written || !item.CarriesResult)
        {
            item.ReplyTo!.Tell(item.Reply!);
            return;
        }
        var lost = new Rejected(ErrorCode.Unavailable,
            $"the task is completed, but its result may not have been kept in the task history ({why}); completing it again is refused as already completed");
        if (item.Reply is CompletedBatch batch)
        {
            var refusals = (Rejected?[])batch.Refusals.Clone();
            foreach (var r in item.Records)
                if (r.Output is not null && r.ReplyIndex >= 0 && r.ReplyIndex < refusals.Length && refusals[r.ReplyIndex] is null) refusals[r.ReplyIndex] = lost;
            item.ReplyTo!.Tell(new CompletedBatch(refusals));
        }
        else item.ReplyTo!.Tell(lost);
    }

    private void AnswerDrainersIfIdle()
    {
        // Not before the table exists: what waits gets the whole drain time to be written.
        if (_drainers.Count == 0 || _writing is not null || _buffer.Count > 0 || _starts.Count > 0) return;
        foreach (var drainer in _drainers) drainer.Tell(Done.Instance);
        _drainers.Clear();
    }
}
