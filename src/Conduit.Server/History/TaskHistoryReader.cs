using Akka.Actor;
using Akka.Event;
using Conduit.Server.Matching;

namespace Conduit.Server.History;

/// <summary>
/// The reads of a node's task history (docs/results.md): a task's details for <see cref="GetTask"/>
/// (<see cref="Describe"/>) and pages of settled tasks for <see cref="ListTasks"/> (<see cref="ListSettled"/>). At most
/// <see cref="MaxConcurrentReads"/> run at once; more wait (<see cref="ReadQueue{TRead}"/>), and past
/// <see cref="MaxWaitingReadBytes"/> are refused as Overloaded. Every read is answered exactly once: with what it read,
/// with its fallback when it fails or times out (<see cref="TaskHistoryStore.OperationTimeout"/>), or when the node stops.
/// A child of <see cref="TaskHistoryActor"/>, which hands it the reads that come to the history.
/// </summary>
internal sealed class TaskHistoryReader : ReceiveActor
{
    public const string Name = "reader";

    /// <summary>A read of the history someone waits for: <see cref="Describe"/> or <see cref="ListSettled"/>.</summary>
    public interface IRead
    {
        IActorRef ReplyTo { get; }
        /// <summary>What it holds while it waits (a payload it carries).</summary>
        long Bytes { get; }
        /// <summary>The answer when the read cannot be made (it failed, or the node stops).</summary>
        object Fallback(string why);
    }

    /// <summary>Answer <paramref name="ReplyTo"/> with <paramref name="Info"/>, its details (what the partition has in memory) completed from the history.</summary>
    public sealed record Describe(TaskInfo Info, IActorRef ReplyTo) : IRead
    {
        public long Bytes => Info.Details?.Payload?.Length ?? 0;
        /// <summary>The task's state is known; only its history is not: what the partition said.</summary>
        public object Fallback(string why) => Info;
    }

    /// <summary>Answer <paramref name="ReplyTo"/> with a page of <paramref name="List"/>'s settled tasks (<see cref="TaskList"/>).</summary>
    public sealed record ListSettled(ListTasks List, TaskListCursor? Cursor, IActorRef ReplyTo) : IRead
    {
        /// <summary>Counted as 64 KiB while it waits, so at most about a thousand listings queue up for the reads.</summary>
        public long Bytes => 64 * 1024;
        public object Fallback(string why) => new Rejected(ErrorCode.Unavailable, $"the task history could not be read ({why}); retry");
    }

    /// <summary>Reads at once; more wait, up to <see cref="MaxWaitingReadBytes"/> of payloads they carry, past which they are refused as Overloaded.</summary>
    public const int MaxConcurrentReads = 16;
    public const long MaxWaitingReadBytes = 64L << 20;

    private sealed record Described(Describe Request, TaskDetails? Details);
    private sealed record Listed(ListSettled Request, TaskSummary[] Items, bool More);
    private sealed record ReadFailed(IRead Request, Exception Cause);

    private readonly TaskHistoryStore _store;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ReadQueue<IRead> _reads = new(MaxConcurrentReads, MaxWaitingReadBytes);
    /// <summary>The reads under way, answered if the actor stops before they are.</summary>
    private readonly HashSet<IRead> _running = new(ReferenceEqualityComparer.Instance);

    public TaskHistoryReader(TaskHistoryStore store)
    {
        _store = store;
        Receive<IRead>(Read);
        Receive<Described>(d =>
        {
            d.Request.ReplyTo.Tell(Merge(d.Request, d.Details));
            Done(d.Request);
        });
        Receive<Listed>(l =>
        {
            l.Request.ReplyTo.Tell(Page(l));
            Done(l.Request);
        });
        Receive<ReadFailed>(f =>
        {
            var what = f.Request is Describe d ? $"task {SafeText.Escape(d.Info.TaskId, 200)}" : "a listing";
            _log.Warning("Task history: reading {What} failed ({Cause})", what, SafeText.Escape(f.Cause.Message, 300));
            f.Request.ReplyTo.Tell(f.Request.Fallback(SafeText.Escape(f.Cause.Message, 200)));
            Done(f.Request);
        });
    }

    public static Props Props(TaskHistoryStore store) => Akka.Actor.Props.Create(() => new TaskHistoryReader(store));

    /// <summary>Whoever still waits is answered with its fallback: the node stops.</summary>
    protected override void PostStop()
    {
        foreach (var read in _reads.Waiting.Concat(_running)) read.ReplyTo.Tell(read.Fallback("the node stopped"));
    }

    private void Read(IRead request)
    {
        switch (_reads.Admit(request, request.Bytes))
        {
            case ReadAdmission.Start:
                Start(request);
                break;
            case ReadAdmission.Refuse:
                request.ReplyTo.Tell(new Rejected(ErrorCode.Overloaded, "the node's task history has too many lookups waiting; retry"));
                break;
            // Wait: it starts when a running read is done (Done).
        }
    }

    private void Start(IRead request)
    {
        _running.Add(request);
        var self = Self;
        var deadline = new CancellationTokenSource(TaskHistoryStore.OperationTimeout);
        // One continuation on the store's own task, so a failure carries its real cause.
        Task<object> read = request switch
        {
            Describe d => _store.ReadAsync(d.Info.TaskId, deadline.Token)
                .ContinueWith(t => t.IsCompletedSuccessfully ? new Described(d, t.Result) : (object)new ReadFailed(d, TaskHistoryStore.FailureOf(t)), TaskScheduler.Default),
            ListSettled l => _store.ListAsync(NamespaceName.OrDefault(l.List.Namespace), l.List.Queue, l.List.State, l.List.Limit,
                    l.Cursor is { } c ? (c.FinishedAtMs, c.Task.ToString()) : null, deadline.Token)
                .ContinueWith(t => t.IsCompletedSuccessfully ? new Listed(l, t.Result.Items, t.Result.More) : (object)new ReadFailed(l, TaskHistoryStore.FailureOf(t)), TaskScheduler.Default),
            _ => Task.FromResult<object>(new ReadFailed(request, new ArgumentOutOfRangeException(nameof(request), request.GetType().Name, "not a read"))),
        };
        read.ContinueWith(t =>
        {
            deadline.Dispose();
            self.Tell(t.Result);
        }, TaskScheduler.Default);
    }

    private void Done(IRead done)
    {
        _running.Remove(done);
        if (_reads.Finish(out var next)) Start(next);
    }

    /// <summary>A page of settled tasks: at most what fits one reply; the cursor of its last item when more follow.</summary>
    private static TaskList Page(Listed listed)
    {
        var list = listed.Request.List;
        var (items, cut) = TaskListing.Take(listed.Items, list.Limit);
        var next = (listed.More || cut) && items.Length > 0 ? TaskListCursor.Settled(items[^1].AtUnixMs, items[^1].TaskId) : null;
        return new TaskList(list.Queue, list.State, items, next, NamespaceName.OrDefault(list.Namespace));
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
}
