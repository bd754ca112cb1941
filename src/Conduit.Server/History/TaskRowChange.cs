using System.Globalization;
using System.Text;

namespace Conduit.Server.History;

/// <summary>
/// Everything one write does to one task's row: the changes of a batch for the same task folded into one (a delivery
/// that started and ended while the last write was in flight is one upsert, not two), so a write is one row per task.
/// Parts a change leaves alone keep the stored value (<see cref="Unchanged"/>).
/// </summary>
internal sealed class TaskRowChange(string taskId, string ns, string queue)
{
    /// <summary>The marker for "keep what is stored" in <see cref="Status"/> and <see cref="RunningAttempt"/>.</summary>
    public const int Unchanged = -1;

    /// <summary>Most characters of a failure reason the history keeps.</summary>
    public const int MaxReasonChars = 500;

    public string TaskId { get; } = taskId;
    public string Namespace { get; } = ns;
    public string Queue { get; } = queue;
    /// <summary>0: live (a delivery started); a final <see cref="TaskStatus"/>; or <see cref="Unchanged"/>.</summary>
    public int Status { get; private set; } = Unchanged;
    public byte[]? Payload { get; private set; }
    public byte[]? Output { get; private set; }
    public long EnqueuedAtMs { get; private set; }
    public long FinishedAtMs { get; private set; }
    /// <summary>The delivery running now (0: none), or <see cref="Unchanged"/>.</summary>
    public int RunningAttempt { get; private set; } = Unchanged;
    public long RunningSinceMs { get; private set; }
    /// <summary>The worker of the delivery running now (with <see cref="RunningAttempt"/>).</summary>
    public string? RunningWorker { get; private set; }
    /// <summary>The newest owner epoch among the folded changes (see <see cref="HistoryRecord.Epoch"/>).</summary>
    public long Epoch { get; private set; }
    private StringBuilder? _ended;

    /// <summary>Ended deliveries to append to the row's list, one line each (<see cref="FormatAttempt"/>).</summary>
    public string EndedAttempts => _ended?.ToString() ?? "";

    public void Apply(HistoryRecord r)
    {
        Epoch = Math.Max(Epoch, r.Epoch);
        switch (r.Change)
        {
            case HistoryChange.Requeued:
                Status = 0;
                FinishedAtMs = 0;
                Output = null;
                RunningAttempt = 0;
                RunningWorker = null;
                break;
            case HistoryChange.Started:
                Status = 0; // live again, whatever it was (a requeued dead letter runs anew)
                FinishedAtMs = 0;
                Output = null;
                if (r.Payload is not null) Payload = r.Payload;
                if (r.EnqueuedAtMs > 0) EnqueuedAtMs = r.EnqueuedAtMs;
                RunningAttempt = r.Attempt;
                RunningSinceMs = r.AtMs;
                RunningWorker = r.Worker;
                break;
            case HistoryChange.AttemptEnded:
                AppendAttempt(r);
                EndRunning(r.Attempt);
                break;
            case HistoryChange.Released:
                EndRunning(r.Attempt);
                break;
            case HistoryChange.Finished:
                Status = (int)r.Status;
                FinishedAtMs = r.AtMs;
                Output = r.Output;
                if (r.Attempt > 0) AppendAttempt(r);
                EndRunning(r.Attempt);
                break;
        }
    }

    /// <summary>
    /// No delivery runs any more (unless a later one than <paramref name="attempt"/> started in this batch).
    /// <see cref="RunningSinceMs"/> keeps the start of this batch's delivery: the store tells a late start by it.
    /// </summary>
    private void EndRunning(int attempt)
    {
        if (RunningAttempt != Unchanged && RunningAttempt != attempt && attempt != 0) return;
        RunningAttempt = 0;
        RunningWorker = null;
    }

    private void AppendAttempt(HistoryRecord r) =>
        (_ended ??= new StringBuilder()).Append(FormatAttempt(new TaskAttempt(r.Attempt, r.StartedAtMs, r.AtMs, r.Outcome, r.Reason, r.Worker)));

    /// <summary>
    /// One line: <c>attempt:start:end:outcome:base64(reason)[:base64(worker)]</c>; text so that both databases append it
    /// with <c>||</c>. A line without a worker has five fields, as every line written before workers were kept.
    /// </summary>
    public static string FormatAttempt(TaskAttempt a)
    {
        var reason = a.Reason is null ? "" : Base64(a.Reason.Length > MaxReasonChars ? a.Reason[..MaxReasonChars] : a.Reason);
        // The sixth field only when there is a worker: a node from before workers were kept reads lines of five.
        var worker = a.Worker is null ? "" : ":" + Base64(a.Worker);
        return string.Create(CultureInfo.InvariantCulture, $"{a.Attempt}:{a.StartedAtUnixMs}:{a.EndedAtUnixMs}:{(int)a.Outcome}:{reason}{worker}\n");
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string? FromBase64(string field)
    {
        if (field.Length == 0) return null;
        try { return Encoding.UTF8.GetString(Convert.FromBase64String(field)); }
        catch (FormatException) { return null; }
    }

    /// <summary>
    /// The row's deliveries, oldest first, at most <see cref="TaskDetails.MaxAttempts"/> (the latest): the ended ones, a
    /// later line of the same attempt number winning (a requeued task starts again at 1), then the running one.
    /// </summary>
    public static TaskAttempt[] ParseAttempts(string? lines, int runningAttempt, long runningSinceMs, string? runningWorker = null)
    {
        var byNumber = new SortedDictionary<int, TaskAttempt>();
        // A list at the store's cap was cut at the front (TaskHistoryStore.MaxAttemptsChars): its first line may be the
        // tail of one ("12:…" cut to "2:…" would read as another attempt), so it is skipped.
        var skipFirst = lines is { Length: >= TaskHistoryStore.MaxAttemptsChars };
        foreach (var line in (lines ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (skipFirst) { skipFirst = false; continue; }
            var parts = line.Split(':');
            if (parts.Length is not (5 or 6) || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var attempt)
                || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var start) || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out var end)
                || !int.TryParse(parts[3], CultureInfo.InvariantCulture, out var outcome)) continue;
            byNumber[attempt] = new TaskAttempt(attempt, start, end, (AttemptOutcome)outcome, FromBase64(parts[4]), parts.Length == 6 ? FromBase64(parts[5]) : null);
        }
        if (runningAttempt > 0) byNumber[runningAttempt] = new TaskAttempt(runningAttempt, runningSinceMs, 0, AttemptOutcome.Running, null, runningWorker);
        return byNumber.Values.TakeLast(TaskDetails.MaxAttempts).ToArray();
    }

    /// <summary>The last delivery a list of lines (or its tail) names, or null.</summary>
    public static TaskAttempt? LastAttempt(string? lines)
    {
        if (string.IsNullOrEmpty(lines)) return null;
        var end = lines.Length - (lines[^1] == '\n' ? 1 : 0);
        if (end == 0) return null;
        var start = lines.LastIndexOf('\n', Math.Max(0, end - 1)) + 1;
        var parsed = ParseAttempts(lines[start..end] + "\n", 0, 0);
        return parsed.Length == 0 ? null : parsed[0];
    }

    /// <summary>Folds <paramref name="records"/> into one change per task, in the order each task first appears.</summary>
    public static List<TaskRowChange> Fold(IReadOnlyList<HistoryRecord> records)
    {
        var byTask = new Dictionary<string, TaskRowChange>(StringComparer.Ordinal);
        var ordered = new List<TaskRowChange>();
        foreach (var r in records)
        {
            if (!byTask.TryGetValue(r.TaskId, out var change))
            {
                byTask[r.TaskId] = change = new TaskRowChange(r.TaskId, r.Namespace, r.Queue);
                ordered.Add(change);
            }
            change.Apply(r);
        }
        return ordered;
    }
}
