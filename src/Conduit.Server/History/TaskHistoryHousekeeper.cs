using Akka.Actor;
using Akka.Event;

namespace Conduit.Server.History;

/// <summary>
/// What keeps a node's task history bounded and quick to list (docs/results.md): every
/// <see cref="TaskHistoryOptions.TrimIntervalMs"/> it deletes the rows older than the retention, <see cref="TrimBatch"/>
/// at a time (again at once while there are more), and it builds the listing index
/// (<see cref="TaskHistoryStore.EnsureListingIndexAsync"/>), trying again each trim tick until it is there. Both wait
/// for <see cref="TableReady"/>. A child of <see cref="TaskHistoryActor"/>, which says when its table exists.
/// </summary>
internal sealed class TaskHistoryHousekeeper : ReceiveActor, IWithTimers
{
    public const string Name = "housekeeper";

    /// <summary>Rows one trim deletes; a trim that deleted this many runs again at once.</summary>
    public const int TrimBatch = 10_000;

    /// <summary>The history's table exists: trimming and the index may start.</summary>
    public sealed class TableReady
    {
        public static readonly TableReady Instance = new();
    }

    private sealed record Trimmed(int Deleted);
    private sealed record TrimFailed(Exception Cause);
    private sealed record ListingIndexBuilt(bool Built);
    private sealed record ListingIndexFailed(Exception Cause);
    private sealed class TrimTick { public static readonly TrimTick Instance = new(); }

    private readonly TaskHistoryStore _store;
    private readonly TaskHistoryOptions _options;
    private readonly Func<long> _now;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private bool _tableReady, _trimming;
    /// <summary>The listing index: not there yet (tried again each trim tick), being built, or there.</summary>
    private bool _indexing, _indexed;
    /// <summary>Stops an index build when the node stops (it has no deadline).</summary>
    private readonly CancellationTokenSource _stopping = new();

    public ITimerScheduler Timers { get; set; } = null!;

    public TaskHistoryHousekeeper(TaskHistoryStore store, TaskHistoryOptions options, Func<long> now)
    {
        _store = store;
        _options = options;
        _now = now;
        Receive<TableReady>(_ =>
        {
            _tableReady = true;
            BuildListingIndex();
        });
        Receive<TrimTick>(_ =>
        {
            Trim();
            BuildListingIndex();
        });
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
        Receive<ListingIndexBuilt>(b =>
        {
            _indexing = false;
            _indexed = b.Built;
            if (b.Built) _log.Debug("Task history: the listing index is there");
        });
        Receive<ListingIndexFailed>(f =>
        {
            _indexing = false;
            _log.Warning("Task history: building the listing index failed ({Cause}); listings work without it, and the next trim tries again",
                SafeText.Escape(f.Cause.Message, 300));
        });
    }

    public static Props Props(TaskHistoryStore store, TaskHistoryOptions options, Func<long> now) =>
        Akka.Actor.Props.Create(() => new TaskHistoryHousekeeper(store, options, now));

    protected override void PreStart() =>
        Timers.StartPeriodicTimer("trim", TrimTick.Instance, TimeSpan.FromMilliseconds(_options.TrimIntervalMs));

    protected override void PostStop() => _stopping.Cancel();

    private void Trim()
    {
        if (_trimming || !_tableReady) return;
        _trimming = true;
        var self = Self;
        var deadline = new CancellationTokenSource(TaskHistoryStore.OperationTimeout);
        _store.TrimAsync(_now() - _options.RetentionMs, TrimBatch, deadline.Token).ContinueWith(t =>
        {
            deadline.Dispose();
            self.Tell(t.IsCompletedSuccessfully ? new Trimmed(t.Result) : new TrimFailed(TaskHistoryStore.FailureOf(t)));
        }, TaskScheduler.Default);
    }

    /// <summary>The listing index, apart from the table's creation: on a large table it takes long, and nothing waits for it.</summary>
    private void BuildListingIndex()
    {
        if (_indexed || _indexing || !_tableReady) return;
        _indexing = true;
        var self = Self;
        _store.EnsureListingIndexAsync(_stopping.Token).ContinueWith(t =>
            self.Tell(t.IsCompletedSuccessfully ? new ListingIndexBuilt(t.Result) : new ListingIndexFailed(TaskHistoryStore.FailureOf(t))), TaskScheduler.Default);
    }
}
