using Akka;
using Akka.Actor;
using Akka.Event;

namespace Conduit.Server.History;

/// <summary>
/// A task-service node's task history (docs/results.md): one writer for the node's partitions, turning their changes
/// into one transaction at a time (what arrives during a write goes in the next; one request's changes are never
/// split), reads for <see cref="GetTask"/>, and the trimming of what is older than the retention. A completion's
/// result is written before its worker is answered: the partition's writer hands the answer here
/// (<see cref="RecordThenReply"/>) once the journal has the completion, and this sends it on once the history has it too.
/// </summary>
internal sealed class TaskHistoryActor : ReceiveActor, IWithTimers
{
    public const string Name = "task-history";

    /// <summary>Changes nobody waits for (a delivery started); dropped when the buffer is full.</summary>
    public sealed record Record(HistoryRecord[] Records);

    /// <summary>Write <paramref name="Records"/>, then send <paramref name="Reply"/> to <paramref name="ReplyTo"/> (if any).</summary>
    public sealed record RecordThenReply(HistoryRecord[] Records, IActorRef? ReplyTo, object? Reply);

    /// <summary>Answer <paramref name="ReplyTo"/> with <paramref name="Info"/>, its details (what the partition has in memory) completed from the history.</summary>
    public sealed record Describe(TaskInfo Info, IActorRef ReplyTo);

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
    /// <summary>Reads at once; more wait, up to <see cref="MaxWaitingReadBytes"/> of payloads they carry, past which they are refused as Overloaded.</summary>
    public const int MaxConcurrentReads = 16;
    public const long MaxWaitingReadBytes = 64L << 20;
    /// <summary>Rows one trim deletes; a trim that deleted this many runs again at once.</summary>
    public const int TrimBatch = 10_000;

    private sealed record Written(int Generation);
    private sealed record WriteFailed(int Generation, Exception Cause);
    private sealed record Created;
    private sealed record CreateFailed(Exception Cause);
    private sealed record Described(Describe Request, TaskDetails? Details);
    private sealed record DescribeFailed(Describe Request, Exception Cause);
    private sealed record Trimmed(int Deleted);
    private sealed record TrimFailed(Exception Cause);
    private sealed class CreateAgain { public static readonly CreateAgain Instance = new(); }
    private sealed class TrimTick { public static readonly TrimTick Instance = new(); }
    private sealed class RetryWrite { public static readonly RetryWrite Instance = new(); }
    private sealed class LingerOver { public static readonly LingerOver Instance = new(); }

    /// <summary>One request's changes and the answer that waits for them (<paramref name="AtMs"/>: when it came, <see cref="Environment.TickCount64"/>).</summary>
    private sealed record Item(HistoryRecord[] Records, IActorRef? ReplyTo, object? Reply, long Bytes, long AtMs)
    {

        /// <summary>A result rides on it: if it cannot be written the requester must hear so; otherwise only attempt history is lost.</summary>
        public bool CarriesResult => Records.Any(r => r.Output is not null);
    }

    private readonly TaskHistoryStore _store;
    private readonly TaskHistoryOptions _options;
    private readonly Func<long> _now;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly Queue<Item> _buffer = new();
    private long _bufferedBytes;
    /// <summary>
    /// Starts that linger (<see cref="TaskHistoryOptions.LingerMs"/>) by task id: a change of the same task that comes
    /// meanwhile takes its start along, so the two are folded into one row insert; otherwise they go once they are old.
    /// </summary>
    private readonly Dictionary<string, HistoryRecord> _starts = new(StringComparer.Ordinal);
    private readonly Queue<(HistoryRecord Start, long AtMs)> _startOrder = new();
    private List<Item>? _writing;
    /// <summary>Tells a write's outcome from an earlier one's (a write outlives nothing, but a late message must not finish the wrong one).</summary>
    private int _generation;
    private int _tries;
    private bool _created;
    private long _dropped;
    private long _lastDropLogMs;
    private readonly List<IActorRef> _drainers = [];

    private int _reading;
    private readonly Queue<Describe> _waitingReads = new();
    private long _waitingReadBytes;
    private bool _trimming;

    public ITimerScheduler Timers { get; set; } = null!;

    public TaskHistoryActor(TaskHistoryStore store, TaskHistoryOptions options, Func<long>? now = null)
    {
        _store = store;
        _options = options;
        _now = now ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        Receive<Record>(r => Linger(r.Records));
        Receive<RecordThenReply>(r => Buffer(new Item(r.Records, r.ReplyTo, r.Reply, BytesOf(r.Records), Environment.TickCount64)));
        Receive<LingerOver>(_ => Flush());
        Receive<Describe>(StartRead);
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
        });
        Receive<CreateFailed>(f =>
        {
            if (_tries++ == 0)
                _log.Warning("Task history: creating its table failed ({Cause}); trying again", SafeText.Escape(f.Cause.Message, 300));
            // Completions do not wait for ever: after as many tries as a write gets, what waits is dropped and answered.
            if (_tries >= MaxWriteTries) DropAll(_buffer.ToList(), f.Cause);
            Timers.StartSingleTimer("create", CreateAgain.Instance, TimeSpan.FromMilliseconds(_options.RetryIntervalMs));
        });
        Receive<CreateAgain>(_ => Create());
        Receive<Written>(w => w.Generation == _generation && _writing is not null, _ => WriteDone());
        Receive<WriteFailed>(w => w.Generation == _generation && _writing is not null, OnWriteFailed);
        // The write that failed, again (nothing else is written meanwhile: changes stay in order).
        Receive<RetryWrite>(_ => _writing is not null, _ => Write());
        Receive<Described>(d =>
        {
            d.Request.ReplyTo.Tell(Merge(d.Request, d.Details));
            ReadDone();
        });
        Receive<DescribeFailed>(f =>
        {
            _log.Warning("Task history: reading task {TaskId} failed ({Cause})", SafeText.Escape(f.Request.Info.TaskId, 200), SafeText.Escape(f.Cause.Message, 300));
            // The task's state is known; only its history is not: answer with what the partition said.
            f.Request.ReplyTo.Tell(Merge(f.Request, null));
            ReadDone();
        });
        Receive<TrimTick>(_ => Trim());
        Receive<Trimmed>(t =>
        {
            _trimming = false;
            if (t.Deleted > 0) _log.Debug("Task history: trimmed {Rows} rows", t.Deleted);
            if (t.Deleted >= TrimBatch) Self.Tell(TrimTick.Instance);
        });
        Receive<TrimFailed>(f =>
        {
            _trimming = false;
            _log.Warning("Task history: trimming failed ({Cause}); the next trim tries again", SafeText.Escape(f.Cause.Message, 300));
        });
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
        Create();
        Timers.StartPeriodicTimer("trim", TrimTick.Instance, TimeSpan.FromMilliseconds(_options.TrimIntervalMs));
    }

    /// <summary>Whoever still waits is answered: the node stops (its shutdown drained the buffer first, see <see cref="Drain"/>).</summary>
    protected override void PostStop()
    {
        var stopped = new Exception("the node stopped before it was written");
        DropAll((_writing ?? []).Concat(_buffer).ToList(), stopped);
        foreach (var read in _waitingReads) read.ReplyTo.Tell(read.Info);
        foreach (var drainer in _drainers) drainer.Tell(Done.Instance);
    }

    private void Create()
    {
        var self = Self;
        _store.EnsureCreatedAsync(CancellationToken.None).ContinueWith(t =>
            self.Tell(t.IsCompletedSuccessfully ? new Created() : new CreateFailed(t.Exception?.GetBaseException() ?? new TaskCanceledException())),
            TaskScheduler.Default);
    }

    private void Buffer(Item item)
    {
        if (_bufferedBytes + item.Bytes > MaxBufferedBytes)
        {
            _dropped += item.Records.Length;
            var now = Environment.TickCount64;
            if (now - _lastDropLogMs > 60_000)
            {
                _lastDropLogMs = now;
                _log.Warning("Task history: {Dropped} changes dropped so far: {Bytes} bytes wait to be written (the database is slow or away)", _dropped, _bufferedBytes);
            }
            Answer(item, written: false, "the node's task history is full");
            return;
        }
        if (item.Records.Length == 0 && _writing is null && _buffer.Count == 0)
        {
            Answer(item, written: true, null);
            return;
        }
        // A task's lingering start goes first, in the same write: start and end become one row.
        foreach (var r in item.Records)
            if (_starts.Remove(r.TaskId, out var start)) _buffer.Enqueue(StartItem(start, item.AtMs));
        _buffer.Enqueue(item);
        _bufferedBytes += item.Bytes;
        Flush();
    }

    /// <summary>A lingering start on its way to be written (its bytes were counted when it came).</summary>
    private static Item StartItem(HistoryRecord start, long atMs) => new([start], null, null, start.Bytes, atMs);

    /// <summary>Starts wait a moment for their task's next change (see <see cref="_starts"/>).</summary>
    private void Linger(HistoryRecord[] starts)
    {
        var now = Environment.TickCount64;
        foreach (var start in starts)
        {
            if (_bufferedBytes + start.Bytes > MaxBufferedBytes)
            {
                _dropped++;
                continue;
            }
            // A second start of the same task (its delivery was given back): the first is written as it is, first.
            if (_starts.Remove(start.TaskId, out var earlier)) _buffer.Enqueue(StartItem(earlier, now));
            _starts[start.TaskId] = start;
            _startOrder.Enqueue((start, now));
            _bufferedBytes += start.Bytes;
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
        while (_startOrder.TryPeek(out var next))
        {
            if (!_starts.TryGetValue(next.Start.TaskId, out var pending) || !ReferenceEquals(pending, next.Start))
            {
                _startOrder.Dequeue(); // taken along by its task's next change already
                continue;
            }
            var waited = now - next.AtMs;
            if (waited < _options.LingerMs && _drainers.Count == 0)
            {
                if (!Timers.IsTimerActive("linger"))
                    Timers.StartSingleTimer("linger", LingerOver.Instance, TimeSpan.FromMilliseconds(Math.Max(1, _options.LingerMs - waited)));
                return;
            }
            _startOrder.Dequeue();
            _starts.Remove(next.Start.TaskId);
            _buffer.Enqueue(StartItem(next.Start, next.AtMs));
        }
    }

    private void Write()
    {
        var self = Self;
        var generation = ++_generation;
        var records = _writing!.SelectMany(i => i.Records).ToList();
        // Not cancelled when the node stops: a write under way finishes, so a completion already answered stays true.
        _store.WriteAsync(records, _now(), CancellationToken.None).ContinueWith(t =>
            self.Tell(t.IsCompletedSuccessfully ? new Written(generation) : new WriteFailed(generation, t.Exception?.GetBaseException() ?? new TaskCanceledException())),
            TaskScheduler.Default);
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
        _dropped += _starts.Count;
        _starts.Clear();
        _startOrder.Clear();
        AnswerDrainersIfIdle();
    }

    /// <summary>
    /// Sends an item's answer on. Its changes are durable in the journal either way; when they could not be written here,
    /// a result rode on them, and the requester hears that it was not kept (<c>Unavailable</c>). Without a result only
    /// attempt history is lost, and the real answer goes out.
    /// </summary>
    private static void Answer(Item item, bool written, string? why)
    {
        if (item.ReplyTo is null || item.Reply is null) return;
        if (written || !item.CarriesResult) item.ReplyTo.Tell(item.Reply);
        else
            item.ReplyTo.Tell(new Rejected(ErrorCode.Unavailable,
                $"the task is completed, but its result could not be kept in the task history ({why}); completing it again is refused as already completed"));
    }

    private void AnswerDrainersIfIdle()
    {
        if (_drainers.Count == 0 || _writing is not null || (_created && (_buffer.Count > 0 || _starts.Count > 0))) return;
        foreach (var drainer in _drainers) drainer.Tell(Done.Instance);
        _drainers.Clear();
    }

    private void StartRead(Describe request)
    {
        if (_reading >= MaxConcurrentReads)
        {
            var bytes = request.Info.Details?.Payload?.Length ?? 0;
            if (_waitingReadBytes + bytes + 1024 > MaxWaitingReadBytes)
            {
                request.ReplyTo.Tell(new Rejected(ErrorCode.Overloaded, "the node's task history has too many lookups waiting; retry"));
                return;
            }
            _waitingReads.Enqueue(request);
            _waitingReadBytes += bytes + 1024;
            return;
        }
        _reading++;
        var self = Self;
        _store.ReadAsync(request.Info.TaskId, CancellationToken.None).ContinueWith(t =>
            self.Tell(t.IsCompletedSuccessfully ? new Described(request, t.Result) : new DescribeFailed(request, t.Exception?.GetBaseException() ?? new TaskCanceledException())),
            TaskScheduler.Default);
    }

    private void ReadDone()
    {
        _reading = Math.Max(0, _reading - 1);
        if (!_waitingReads.TryDequeue(out var next)) return;
        _waitingReadBytes -= (next.Info.Details?.Payload?.Length ?? 0) + 1024;
        StartRead(next);
    }

    /// <summary>The history's record wins; what it lacks (the payload of a task not started yet) comes from the partition's memory.</summary>
    private static TaskInfo Merge(Describe request, TaskDetails? recorded)
    {
        var known = request.Info.Details;
        if (recorded is null) return request.Info;
        if (known is not null)
        {
            if (recorded.Payload is null && known.Payload is not null) recorded = recorded with { Payload = known.Payload };
            if (recorded.EnqueuedAtUnixMs == 0) recorded = recorded with { EnqueuedAtUnixMs = known.EnqueuedAtUnixMs };
        }
        return request.Info with { Details = recorded };
    }

    private void Trim()
    {
        if (_trimming || !_created) return;
        _trimming = true;
        var self = Self;
        _store.TrimAsync(_now() - _options.RetentionMs, TrimBatch, CancellationToken.None).ContinueWith(t =>
            self.Tell(t.IsCompletedSuccessfully ? new Trimmed(t.Result) : new TrimFailed(t.Exception?.GetBaseException() ?? new TaskCanceledException())),
            TaskScheduler.Default);
    }
}
