using System.Text;
using Conduit.Protocol;
using Conduit.Server.Matching;

namespace Conduit.Server.Tests.Matching;

/// <summary>
/// What a client of one partition can know from the answers it got: which enqueues were acknowledged, refused or left
/// in doubt (a failed or unanswered write may or may not be in the journal), what was delivered, completed,
/// failed, cancelled. <see cref="PartitionProperties"/> checks every delivery and the end state against it.
/// </summary>
internal sealed class PartitionModel(EngineHarness h)
{
    internal sealed class Task(string name, int priority, long delayUntil, string? key)
    {
        public string Name { get; } = name;
        public int Priority { get; } = priority;
        public long DelayUntil { get; } = delayUntil;
        public bool Delayed { get; } = delayUntil > 0;
        public string? Key { get; } = key;
        public string? Id { get; set; }
        /// <summary>The enqueue was acknowledged: the task must be delivered or settled.</summary>
        public bool Acked { get; set; }
        /// <summary>Refused with anything but Unavailable: never written.</summary>
        public bool Refused { get; set; }
        /// <summary>Acknowledged as a duplicate of an earlier task with the same key: never delivered as itself.</summary>
        public bool Duplicate { get; set; }
        public int Deliveries { get; set; }
        public bool CancelAsked { get; set; }
        public bool Completed { get; set; }
        public bool Cancelled { get; set; }
        public bool Dead { get; set; }
        public long RetryNotBefore { get; set; }
        public long Seq => TaskId.TryParse(Id, out var id) ? id.Seq : 0;
        public long Counter => Seq >> 4;
    }

    private abstract record Request;
    private sealed record EnqueueRequest(Task Task) : Request;
    private sealed record BatchRequest(Task[] Tasks) : Request;
    private sealed record PollRequest : Request;
    private sealed record SettleRequest(Task Task) : Request;
    private sealed record ReleaseRequest : Request;
    /// <summary>A completion, with when it was sent and how many restarts the partition had had by then.</summary>
    private sealed record CompleteRequest(Task Task, LeasedTask Lease, long SentAt, int Crashes) : Request;

    /// <summary>How many restarts the partition had had when each delivery (by lease token) was handed out.</summary>
    private readonly Dictionary<string, int> _deliveredAfterCrashes = new(StringComparer.Ordinal);

    private readonly Dictionary<object, Request> _requests = new(ReferenceEqualityComparer.Instance);
    private int _repliesSeen;
    private int _enqueues;

    public List<Task> Tasks { get; } = [];
    public Dictionary<string, Task> ByName { get; } = new();
    /// <summary>Leases held by the model's workers, oldest first.</summary>
    public List<(Task Task, LeasedTask Lease)> Leases { get; } = [];
    public List<string> Log { get; } = [];

    public void Enqueue(int priority, long delayMs, string? key)
    {
        var task = new Task($"e{_enqueues++}", priority, delayMs > 0 ? h.Now + delayMs : 0, key);
        Tasks.Add(task);
        ByName[task.Name] = task;
        Send(new EnqueueRequest(task), new Enqueue("q", EngineHarness.Spec(task.Name, priority, delayMs, key, maxAttempts: 3)));
    }

    /// <summary>One request, one event: <paramref name="count"/> tasks written together.</summary>
    public void EnqueueBatch(int count, int priority, long delayMs)
    {
        var tasks = new Task[count];
        for (var i = 0; i < count; i++)
        {
            tasks[i] = new Task($"e{_enqueues++}", priority, delayMs > 0 ? h.Now + delayMs : 0, null);
            Tasks.Add(tasks[i]);
            ByName[tasks[i].Name] = tasks[i];
        }
        Send(new BatchRequest(tasks), new EnqueueBatch("q", tasks.Select(t => EngineHarness.Spec(t.Name, priority, delayMs, maxAttempts: 3)).ToArray()));
    }

    public void Poll(int max, long waitMs) => Send(new PollRequest(), new Poll("q", max, waitMs, 0));

    public void Complete(int pick)
    {
        if (Take(pick) is not { } l) return;
        Send(new CompleteRequest(l.Task, l.Lease, h.Now, h.Crashes), new Complete(l.Lease.LeaseToken));
    }

    public void Fail(int pick, bool retryable)
    {
        if (Take(pick) is not { } l) return;
        Send(new SettleRequest(l.Task), new Fail(l.Lease.LeaseToken, "boom", retryable));
    }

    public void Cancel(int pick)
    {
        var known = Tasks.Where(t => t.Id is not null && !t.Duplicate).ToList();
        if (known.Count == 0) return;
        var task = known[pick % known.Count];
        task.CancelAsked = true;
        Send(new SettleRequest(task), new CancelTask(task.Id!));
    }

    /// <summary>Deliveries given back (<see cref="Release"/>), whose tokens a retried release may name again.</summary>
    public List<LeasedTask> Released { get; } = [];

    /// <summary>Gives a delivery back undelivered: the task is ready again, its attempt not used.</summary>
    public void Release(int pick)
    {
        if (Take(pick) is not { } l) return;
        Released.Add(l.Lease);
        Send(new ReleaseRequest(), new ReleaseTasks([l.Lease.LeaseToken]));
    }

    /// <summary>Asks again to release a delivery given back before: it must change nothing, whatever happened to the task since.</summary>
    public void ReleaseAgain(int pick)
    {
        if (Released.Count == 0) return;
        Send(new ReleaseRequest(), new ReleaseTasks([Released[pick % Released.Count].LeaseToken]));
    }

    private (Task Task, LeasedTask Lease)? Take(int pick)
    {
        if (Leases.Count == 0) return null;
        var l = Leases[pick % Leases.Count];
        Leases.Remove(l);
        return l;
    }

    private void Send(Request request, IPartitionRequest message)
    {
        var from = new object();
        _requests[from] = request;
        h.Engine.Handle(from, message);
        h.Settle();
        Observe();
    }

    /// <summary>Takes in every answer given since the last call, checking each delivery.</summary>
    public void Observe()
    {
        for (; _repliesSeen < h.Replies.Count; _repliesSeen++)
        {
            var (to, message) = h.Replies[_repliesSeen];
            if (!_requests.TryGetValue(to, out var request)) continue;
            switch (request, message)
            {
                case (EnqueueRequest e, Enqueued { Duplicate: true } dup):
                    e.Task.Duplicate = true;
                    if (Tasks.FirstOrDefault(t => t.Id == dup.TaskId) is { } original)
                    {
                        Check(original.Key == e.Task.Key, $"{e.Task.Name} (key {e.Task.Key}) was answered as a duplicate of {original.Name} (key {original.Key})");
                        original.Acked = true;
                    }
                    break;
                case (EnqueueRequest e, Enqueued ok):
                    e.Task.Id = ok.TaskId;
                    e.Task.Acked = true;
                    // Within the retention (24 h, far more than a run), one key names one task.
                    if (e.Task.Key is { } key && Tasks.FirstOrDefault(t => t != e.Task && t.Key == key && t.Acked && !t.Duplicate) is { } first)
                        Check(false, $"{e.Task.Name} and {first.Name} were both acknowledged as new tasks for key {key}");
                    break;
                case (EnqueueRequest e, Rejected r):
                    if (r.Code != ErrorCode.Unavailable) e.Task.Refused = true;
                    break;
                case (BatchRequest b, EnqueuedBatch ok):
                    for (var i = 0; i < b.Tasks.Length; i++) (b.Tasks[i].Id, b.Tasks[i].Acked) = (ok.Results[i].TaskId, true);
                    break;
                case (BatchRequest b, Rejected r):
                    if (r.Code != ErrorCode.Unavailable) foreach (var t in b.Tasks) t.Refused = true;
                    break;
                case (PollRequest, Polled polled):
                    Delivered(polled.Tasks, h.NoticedAtReply[_repliesSeen]);
                    break;
                case (SettleRequest s, Completed):
                    s.Task.Completed = true;
                    break;
                case (CompleteRequest c, Completed):
                    c.Task.Completed = true;
                    break;
                case (CompleteRequest c, Rejected { Code: ErrorCode.UnknownLease or ErrorCode.LeaseExpired } r):
                    // A delivery still within its lease, not given back, not cancelled, on the incarnation that handed it out,
                    // is not refused as unknown or expired: nothing else may take its lease away (a stale release, say). A write
                    // that failed (Unavailable) leaves the outcome unknown, as for any client.
                    Check(c.Task.CancelAsked || c.SentAt >= c.Lease.LeaseExpiresAtUnixMs || _deliveredAfterCrashes[c.Lease.LeaseToken] != c.Crashes,
                        $"completing {c.Task.Name} with its live lease (sent at {c.SentAt}, expires at {c.Lease.LeaseExpiresAtUnixMs}) was refused: {r.Code} {r.Message}");
                    break;
                case (SettleRequest s, Failed f):
                    if (f.Next == TaskStatus.DeadLettered) s.Task.Dead = true;
                    else s.Task.RetryNotBefore = f.RetryAtUnixMs;
                    break;
                case (SettleRequest s, Cancelled):
                    s.Task.Cancelled = true;
                    break;
            }
        }
    }

    private void Delivered(LeasedTask[] tasks, long noticedUpTo)
    {
        foreach (var leased in tasks)
        {
            var name = Encoding.UTF8.GetString(leased.Payload);
            Check(ByName.TryGetValue(name, out var t), $"delivered {name}, which was never enqueued");
            Check(!t!.Refused, $"delivered {name}, whose enqueue was refused");
            Check(!t.Duplicate, $"delivered {name}, acknowledged as a duplicate of an earlier key");
            Check(!t.Completed, $"delivered {name} after its completion was acknowledged");
            Check(!t.Cancelled, $"delivered {name} after its cancellation was acknowledged");
            Check(!t.Dead, $"delivered {name} after it was acknowledged dead-lettered");
            Check(h.Now >= t.DelayUntil, $"delivered {name} at {h.Now}, before it was due at {t.DelayUntil}");
            Check(h.Now >= t.RetryNotBefore, $"delivered {name} at {h.Now}, before its retry was due at {t.RetryNotBefore}");
            t.Id ??= leased.TaskId;
            Check(t.Id == leased.TaskId, $"delivered {name} as {leased.TaskId}, acknowledged as {t.Id}");
            if (t.Deliveries == 0 && !t.Delayed) CheckPriorityOrder(t, tasks, noticedUpTo);
            t.Deliveries++;
            _deliveredAfterCrashes[leased.LeaseToken] = h.Crashes;
            Leases.Add((t, leased));
            Log.Add($"  -> {name} p{t.Priority} attempt {leased.Attempt}");
        }
    }

    /// <summary>
    /// A first delivery of a ready (never delayed) task: no task the partition knew to be fresh when it answered (durable
    /// and noticed by then, never delivered, nobody asked to cancel it) with a higher priority, or the same priority and
    /// an older counter, is left behind. Tasks retried, delayed or redelivered after a crash have no place in this order.
    /// </summary>
    private void CheckPriorityOrder(Task t, LeasedTask[] batch, long noticedUpTo)
    {
        foreach (var u in Tasks)
        {
            if (u == t || !u.Acked || u.Duplicate || u.Delayed || u.Deliveries > 0 || u.CancelAsked || u.Id is null) continue;
            if (batch.Any(b => b.TaskId == u.Id) || !h.EventOfTask.TryGetValue(u.Seq, out var written) || written > noticedUpTo) continue;
            Check(u.Priority < t.Priority || (u.Priority == t.Priority && u.Counter > t.Counter),
                $"delivered {t.Name} (p{t.Priority}, counter {t.Counter}) ahead of {u.Name} (p{u.Priority}, counter {u.Counter}), fresh and known to the partition");
        }
    }

    /// <summary>Tasks that must be deliverable now: acknowledged, never delivered, due, nobody asked to cancel them.</summary>
    public List<Task> MustBeDeliverable() =>
        Tasks.Where(t => t.Acked && !t.Duplicate && t.Deliveries == 0 && !t.CancelAsked && t.RetryNotBefore == 0 && h.Now >= t.DelayUntil).ToList();

    public void Check(bool condition, string what)
    {
        if (!condition) throw new PropertyViolation(what);
    }
}

internal sealed class PropertyViolation(string message) : Exception(message);
