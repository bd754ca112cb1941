using System.Globalization;
using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

/// <summary>
/// Where a <see cref="ListTasks"/> page starts (<see cref="ListTasks.After"/>, made by the node as
/// <see cref="TaskList.Next"/>): for the live states the task id of the last item listed (pages go in task id order,
/// partition by partition); for the settled states its finish time and task id (<c>ms,taskId</c>; pages go newest
/// first). The text comes from the network: <see cref="TryParse"/> checks every part, and a cursor of another queue is
/// refused.
/// </summary>
internal readonly record struct TaskListCursor(TaskId Task, long FinishedAtMs)
{
    public static string Live(TaskId task) => task.ToString();

    public static string Settled(long finishedAtMs, string taskId) =>
        string.Create(CultureInfo.InvariantCulture, $"{finishedAtMs},{taskId}");

    /// <summary>The cursor of <paramref name="list"/> (default: none), or a refusal when it is not one this queue and state make.</summary>
    public static Rejected? TryParse(ListTasks list, out TaskListCursor? cursor)
    {
        cursor = null;
        if (list.After is null) return null;
        var text = list.After;
        long finishedAt = 0;
        if (ListTasks.IsSettled(list.State))
        {
            var comma = text.Length > ListTasks.MaxCursorLength ? -1 : text.IndexOf(',', StringComparison.Ordinal);
            if (comma <= 0 || !long.TryParse(text.AsSpan(0, comma), NumberStyles.None, CultureInfo.InvariantCulture, out finishedAt))
                return Invalid(list);
            text = text[(comma + 1)..];
        }
        if (!TaskId.TryParse(text, out var task) || task.Partition.Namespace != NamespaceName.OrDefault(list.Namespace) || task.Partition.Queue != list.Queue)
            return Invalid(list);
        cursor = new TaskListCursor(task, finishedAt);
        return null;
    }

    private static Rejected Invalid(ListTasks list) =>
        new(ErrorCode.InvalidArgument, $"'{SafeText.Escape(list.After, 80)}' is not a cursor of a {list.State} listing of queue '{list.Queue}': pass the Next of the page before");
}

/// <summary>
/// One partition's page of <see cref="ListTasks"/> for a live state, from what the partition holds in memory, and the
/// frontend's merge of the partitions' pages (docs/results.md). Pages go in task id order: partition, then sequence.
/// </summary>
internal static class TaskListing
{
    /// <summary>Checks what the network sent: a listable state, a limit in range, a cursor of this queue.</summary>
    public static Rejected? Check(ListTasks list, out TaskListCursor? cursor)
    {
        cursor = null;
        if (list.State is < TaskStatus.Scheduled or > TaskStatus.Cancelled)
            return new Rejected(ErrorCode.InvalidArgument, $"no task state {(int)list.State}: list Scheduled, Ready, Running, Failed, DeadLettered, Completed or Cancelled");
        if (list.Limit is < 1 or > ListTasks.MaxLimit)
            return new Rejected(ErrorCode.InvalidArgument, $"limit must be 1..{ListTasks.MaxLimit}, not {list.Limit}");
        return TaskListCursor.TryParse(list, out cursor);
    }

    /// <summary>
    /// The tasks of one partition in a live state, as candidates. Each is kept only if <paramref name="statusOf"/> (the
    /// partition's status of a task, decisions not yet durable included: what <see cref="GetTask"/> says) is
    /// <paramref name="state"/>, so a listing and GetTask agree. A candidate is a value: nothing is allocated for the
    /// many a page leaves out.
    /// </summary>
    public static IEnumerable<ListedTask> Candidates(TaskStatus state, DurablePartitionState durable, ReadyWindow window, LeaseTable leases,
        Func<long, TaskStatus?> statusOf) =>
        RawCandidates(state, durable, window, leases).Where(c => statusOf(c.Seq) == state);

    private static IEnumerable<ListedTask> RawCandidates(TaskStatus state, DurablePartitionState durable, ReadyWindow window, LeaseTable leases)
    {
        switch (state)
        {
            case TaskStatus.Running:
                foreach (var lease in leases.All)
                    yield return new ListedTask(lease.Seq, lease.Attempt, lease.LeasedAtMs, Worker: lease.Worker);
                break;
            case TaskStatus.Ready:
                foreach (var ready in window.Tasks)
                    yield return new ListedTask(ready.Seq, ready.Attempt, ready.Task.EnqueuedAtMs);
                // Tasks whose time has come and whose payload is not in memory yet.
                foreach (var e in durable.Exceptions.Values)
                    if (e.State is TaskState.Scheduled or TaskState.Failed && !window.Contains(e.Seq))
                        yield return new ListedTask(e.Seq, e.Attempt, e.EnqueuedAtMs, e.Reason);
                break;
            default:
                foreach (var e in durable.Exceptions.Values)
                {
                    var candidate = state switch
                    {
                        TaskStatus.Scheduled => e.State == TaskState.Scheduled,
                        // Also a task the journal says runs but whose lease ended (failed or expired; its retry not durable yet).
                        TaskStatus.Failed => e.State == TaskState.Failed || (e.State == TaskState.Running && !leases.Contains(e.Seq)),
                        TaskStatus.DeadLettered => e.State == TaskState.Dead,
                        _ => false,
                    };
                    if (!candidate) continue;
                    var at = e.State is TaskState.Scheduled or TaskState.Failed ? e.RunAtMs : e.UpdatedAtMs;
                    yield return new ListedTask(e.Seq, e.Attempt, at, e.Reason);
                }
                break;
        }
    }

    /// <summary>
    /// Partition <paramref name="id"/>'s page: its candidates after the cursor, lowest sequence first, at most the limit
    /// and at most what fits in one reply; <see cref="TaskList.Next"/> set when it left any out.
    /// </summary>
    public static TaskList Page(ListTasks list, TaskListCursor? cursor, PartitionId id, IEnumerable<ListedTask> candidates)
    {
        var after = cursor is not { } c ? long.MinValue
            : c.Task.Partition.Index > id.Index ? long.MaxValue
            : c.Task.Partition.Index < id.Index ? long.MinValue
            : c.Task.Seq;
        // The lowest limit+1 sequences after the cursor, kept in a max-heap: one pass over what may be many tasks.
        var keep = list.Limit + 1;
        var heap = new PriorityQueue<ListedTask, long>(keep, Comparer<long>.Create((a, b) => b.CompareTo(a)));
        if (after != long.MaxValue)
            foreach (var candidate in candidates)
            {
                if (candidate.Seq <= after) continue;
                if (heap.Count < keep) heap.Enqueue(candidate, candidate.Seq);
                else if (heap.TryPeek(out _, out var highest) && candidate.Seq < highest) heap.EnqueueDequeue(candidate, candidate.Seq);
            }
        var ordered = new TaskSummary[heap.Count];
        for (var i = ordered.Length - 1; i >= 0; i--) ordered[i] = heap.Dequeue().ToSummary(id, list.State);
        var (items, more) = Take(ordered, list.Limit);
        return new TaskList(list.Queue, list.State, items, more ? TaskListCursor.Live(TaskIdOf(items[^1])) : null, id.Namespace);
    }

    /// <summary>
    /// The frontend's page from the partitions' pages (each after the same cursor): partition by partition in index
    /// order, never past the end of a page that was cut (what it left out comes before the next partition's tasks).
    /// </summary>
    public static TaskList Merge(ListTasks list, IReadOnlyList<(int Index, TaskList Page)> pages)
    {
        var ordered = pages.OrderBy(p => p.Index).ToList();
        var items = new List<TaskSummary>();
        long bytes = 0;
        var more = false;
        for (var i = 0; i < ordered.Count && !more; i++)
        {
            var page = ordered[i].Page;
            foreach (var item in page.Items)
            {
                if (items.Count >= list.Limit || bytes + item.WireBytes > WireLimits.MaxReplyBytes) { more = true; break; }
                bytes += item.WireBytes;
                items.Add(item);
            }
            if (page.Next is not null) more = true;
            // Stopped at the limit exactly: more only if a later partition has any.
            if (!more && items.Count >= list.Limit && ordered.Skip(i + 1).Any(p => p.Page.Items.Length > 0 || p.Page.Next is not null)) more = true;
        }
        more &= items.Count > 0;
        return new TaskList(list.Queue, list.State, items.ToArray(), more ? TaskListCursor.Live(TaskIdOf(items[^1])) : null,
            NamespaceName.OrDefault(list.Namespace));
    }

    /// <summary>Takes items in order while both limits hold; whether any were left.</summary>
    public static (TaskSummary[] Items, bool More) Take(IEnumerable<TaskSummary> ordered, int limit) =>
        ReplyPage.Take(ordered, limit, t => t.WireBytes);

    private static TaskId TaskIdOf(TaskSummary item) =>
        TaskId.TryParse(item.TaskId, out var id) ? id : throw new InvalidOperationException($"listed an unparsable task id '{item.TaskId}'");
}

/// <summary>A task a partition may list: what a <see cref="TaskSummary"/> is made of, but its id text (made only for the tasks a page keeps).</summary>
internal readonly record struct ListedTask(long Seq, int Attempt, long AtMs, string? Reason = null, string? Worker = null)
{
    public TaskSummary ToSummary(PartitionId partition, TaskStatus state) =>
        new(new TaskId(partition, Seq).ToString(), state, new TaskSeq(Seq).Priority, Attempt, AtMs, Reason, Worker);
}
