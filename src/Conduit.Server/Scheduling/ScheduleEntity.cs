using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using Conduit.Server.Frontend;
using Conduit.Server.Matching;

namespace Conduit.Server.Scheduling;

/// <summary>
/// One schedule, a sharded persistent entity (<c>schedules</c> region on task-service nodes, remembered, so it runs
/// again on another node after a failover). It keeps a single timer to its next due time, decides with
/// <see cref="ScheduleState.Decide"/>, records the run as started, enqueues it through the partitions' shard region with
/// an idempotency key of the schedule and the due time, and only then records it as run: a run started by an
/// incarnation that died is finished by the next one (found again by its key, not doubled). One run at a time; a
/// refused or unanswered enqueue is tried again with backoff.
/// </summary>
internal sealed class ScheduleEntity : ReceivePersistentActor, IWithTimers
{
    /// <summary>A snapshot every this many events; the events before it are then deleted, so storage and recovery stay bounded.</summary>
    public const int SnapshotEvery = 100;
    /// <summary>How long the schedule waits for its enqueue's answer: 10 s.</summary>
    public static readonly TimeSpan EnqueueTimeout = TimeSpan.FromSeconds(10);
    /// <summary>Longest wait between tries of a refused run: 30 s (from 1 s, doubling).</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);
    /// <summary>An entity with no schedule (never created, or deleted) stops after this long without a request.</summary>
    public static readonly TimeSpan IdleStopAfter = TimeSpan.FromSeconds(30);
    /// <summary>A timer is never set further ahead than this; past it the entity decides again (Akka's scheduler bound).</summary>
    private static readonly TimeSpan MaxTimer = TimeSpan.FromHours(12);

    private readonly string _ns;
    private readonly string _name;
    private readonly IActorRef _partitions;
    private readonly QueueTopology _topology;
    private readonly QueuePolicies _policies;
    private readonly Func<long> _now;
    private readonly ScheduleState _state = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private bool _running;
    private int _failures;
    /// <summary>
    /// Whether the run in flight may be in the queue already: it was started by an earlier incarnation, or an attempt
    /// got no answer or Unavailable. Such a run is finished (enqueued again with its key) whatever its lateness; one
    /// the queue only ever refused before writing is decided again at its retry.
    /// </summary>
    private bool _runMayHaveLanded;
    private long _attempt;

    public ScheduleEntity(string ns, string name, IActorRef partitions, QueueTopology topology, QueuePolicies policies, Func<long>? now)
    {
        (_ns, _name, _partitions, _topology, _policies) = (ns, name, partitions, topology, policies);
        _now = now ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        PersistenceId = $"schedule-{ns}/{name}";

        Recover<SnapshotOffer>(offer => { if (offer.Snapshot is ScheduleSnapshot snapshot) _state.Apply(snapshot); });
        Recover<Persistence.IConduitEvent>(e => _state.Apply(e));

        Recover<RecoveryCompleted>(_ => Recovered());
        Command<PutSchedule>(Put);
        Command<GetSchedule>(_ => Answer(() => Info()));
        Command<PauseSchedule>(_ => SetPaused(true));
        Command<ResumeSchedule>(_ => SetPaused(false));
        Command<DeleteSchedule>(_ => Delete());
        Command<TriggerSchedule>(_ => Trigger());
        Command<Tick>(tick => { if (tick.Attempt == _attempt) Plan(); });
        Command<RunChecked>(OnRunChecked);
        Command<RunEnqueued>(OnRunEnqueued);
        Command<SaveSnapshotSuccess>(ok =>
        {
            DeleteMessages(ok.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(f => _log.Warning("Schedule {0}: snapshot not saved ({1}); tried again in {2} events",
            SafeText.Escape(PersistenceId, 300), SafeText.Escape(f.Cause.Message, 200), SnapshotEvery));
        Command<DeleteMessagesSuccess>(_ => DeleteAnswered());
        Command<DeleteMessagesFailure>(_ => DeleteAnswered());
        Command<DeleteSnapshotsSuccess>(_ => DeleteAnswered());
        Command<DeleteSnapshotsFailure>(_ => DeleteAnswered());
        Command<ReceiveTimeout>(_ => { if (!_state.Exists) Context.Parent.Tell(new Passivate(PoisonPill.Instance)); });
    }

    public override string PersistenceId { get; }
    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string ns, string name, IActorRef partitions, QueueTopology topology, QueuePolicies policies, Func<long>? now = null) =>
        Akka.Actor.Props.Create(() => new ScheduleEntity(ns, name, partitions, topology, policies, now));

    /// <summary>
    /// Recovered: decide what is due. On <c>RecoveryCompleted</c>, not in <c>OnReplaySuccess</c>, as a decision may persist
    /// (a run started, due times skipped), which Akka refuses during replay: the entity would fail and start over.
    /// </summary>
    private void Recovered()
    {
        var now = _now();
        // As partitions do: where and when a schedule came back (after a restart or a failover), and what it had done.
        if (_state.Exists)
            _log.Info("Schedule {0} recovered at event {1} and decided at {2}: last run due {3}, {4} runs, {5} skipped, run in flight due {6}",
                new object[] { SafeText.Escape(PersistenceId, 300), LastSequenceNr, now, _state.LastDueUnixMs, _state.Runs, _state.Skipped, _state.PendingDueUnixMs });
        Plan(now);
    }

    private ScheduleInfo Info() => _state.Info(_name, _ns, _now());

    private Rejected NotFound() =>
        new(ErrorCode.ScheduleNotFound, $"no schedule '{_name}' in namespace '{_ns}'");

    /// <summary>Answers with <paramref name="reply"/> when the schedule exists; otherwise ScheduleNotFound (and the entity stops when idle).</summary>
    private void Answer(Func<object> reply)
    {
        if (_state.Exists) Sender.Tell(reply());
        else Sender.Tell(NotFound());
    }

    private void Put(PutSchedule put)
    {
        var now = _now();
        // The task template against its queue's own policy (payload cap, attempts: per-queue overrides included).
        if (ScheduleRules.CheckSpec(put.Spec, put.Spec is { Queue: { } q } ? _policies.For(_ns, q) : _policies.Defaults, now) is { } refused)
        {
            Sender.Tell(refused);
            return;
        }
        Change(new ScheduleSaved { Spec = put.Spec, AtUnixMs = now }, mustExist: false);
    }

    /// <summary>Pauses or resumes; asking for the state the schedule is already in changes nothing (a resume would otherwise move its floor and drop a run waiting out its jitter or a retry).</summary>
    private void SetPaused(bool paused)
    {
        if (_state.Exists && _state.Paused == paused) Sender.Tell(Info());
        else Change(new SchedulePauseChanged { Paused = paused, AtUnixMs = _now() });
    }

    private void Change(Persistence.IConduitEvent change, bool mustExist = true)
    {
        if (mustExist && !_state.Exists)
        {
            Sender.Tell(NotFound());
            return;
        }
        var replyTo = Sender;
        Persist(change, e =>
        {
            Apply(e);
            replyTo.Tell(Info());
            Plan();
        });
    }

    private void Delete()
    {
        if (!_state.Exists)
        {
            Sender.Tell(NotFound());
            return;
        }
        var replyTo = Sender;
        Persist(new ScheduleRemoved(), e =>
        {
            Apply(e);
            Timers.CancelAll();
            replyTo.Tell(new ScheduleDeleted(_name, _ns));
            // Nothing of it needs keeping: the journal and snapshots go, then the entity stops (and is forgotten by remember-entities).
            _deletesPending = 2;
            DeleteMessages(LastSequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue));
        });
    }

    /// <summary>Deletes of a removed schedule not yet answered; the entity stops once both are (so no answer meets a stopped actor).</summary>
    private int _deletesPending;

    private void DeleteAnswered()
    {
        // Not if it was created again meanwhile: a passivated schedule would be forgotten by remember-entities and never fire.
        if (_deletesPending > 0 && --_deletesPending == 0 && !_state.Exists) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    private void Apply(Persistence.IConduitEvent e)
    {
        _state.Apply(e);
        _attempt++;
        SetReceiveTimeout(_state.Exists ? null : IdleStopAfter);
        if (LastSequenceNr % SnapshotEvery == 0 && _state.Exists) SaveSnapshot(_state.ToSnapshot());
    }

    /// <summary>Decides what is due now (or at <paramref name="at"/>, a time just read) and does it: a timer to the next due time, a skip recorded, or a run started.</summary>
    private void Plan(long? at = null)
    {
        if (!_state.Exists) SetReceiveTimeout(IdleStopAfter);
        if (_running) return;
        var now = at ?? _now();
        switch (_state.Decide(now, Jitter))
        {
            case ScheduleDecision.WaitUntil wait:
                var delay = TimeSpan.FromMilliseconds(Math.Max(0, wait.AtUnixMs - now));
                Timers.StartSingleTimer(TickKey, new Tick(_attempt), delay < MaxTimer ? delay : MaxTimer);
                break;
            case ScheduleDecision.Skip skip:
                Persist(new ScheduleSkipped { UpToDueUnixMs = skip.UpToDueUnixMs, Count = skip.Count }, e =>
                {
                    Apply(e);
                    Plan();
                });
                break;
            case ScheduleDecision.Run { Resumed: true } resumed:
                // Started before this incarnation (or before a failed attempt): enqueue it again, idempotently; no overlap check,
                // it was made before the run started.
                _running = true;
                _runMayHaveLanded = true;
                Enqueue(_attempt, resumed.DueUnixMs, resumed.SkippedBefore);
                break;
            case ScheduleDecision.Run run:
                StartRun(run.DueUnixMs, run.SkippedBefore);
                break;
            default:
                Timers.Cancel(TickKey);
                break;
        }
    }

    private const string TickKey = "tick";

    /// <summary>A due time's delay within the spec's jitter, the same for that due time wherever the schedule runs.</summary>
    private long Jitter(long due) => _state.Spec is { JitterMs: > 0 } spec
        ? (long)(StableHash.Of($"{_ns}/{_name}@{due}") % (ulong)(spec.JitterMs + 1))
        : 0;

    private void StartRun(long due, long skippedBefore)
    {
        _running = true;
        var attempt = _attempt;
        if (_state.Spec!.Overlap == OverlapPolicy.Skip && _state.LastTaskId is { } last && TaskId.TryParse(last, out var lastId))
        {
            _partitions.Ask<object>(new PartitionEnvelope(lastId.Partition.EntityId, new GetTask(last)), EnqueueTimeout)
                .PipeTo(Self, success: reply => new RunChecked(attempt, due, skippedBefore, reply),
                    failure: _ => new RunChecked(attempt, due, skippedBefore, null));
            return;
        }
        StartAndEnqueue(attempt, due, skippedBefore);
    }

    private void OnRunChecked(RunChecked check)
    {
        if (check.Attempt != _attempt) { _running = false; Plan(); return; }
        switch (check.Reply)
        {
            case TaskInfo { Status: TaskStatus.Scheduled or TaskStatus.Ready or TaskStatus.Running or TaskStatus.Failed }:
                // The previous run is not finished: this due time is skipped (OverlapPolicy.Skip).
                _running = false;
                Persist(new ScheduleSkipped { UpToDueUnixMs = check.Due, Count = check.SkippedBefore + 1 }, e =>
                {
                    Apply(e);
                    Plan();
                });
                break;
            case TaskInfo or Rejected { Code: ErrorCode.TaskNotFound }:
                StartAndEnqueue(check.Attempt, check.Due, check.SkippedBefore);
                break;
            default:
                RetryLater(check.Reply as Rejected);
                break;
        }
    }

    /// <summary>Records the run as started, then enqueues it (<see cref="ScheduleRunStarted"/>).</summary>
    private void StartAndEnqueue(long attempt, long due, long skippedBefore) =>
        Persist(new ScheduleRunStarted { DueUnixMs = due, SkippedBefore = skippedBefore }, e =>
        {
            Apply(e);
            _runMayHaveLanded = false;
            Enqueue(_attempt, due, skippedBefore);
        });

    private void Enqueue(long attempt, long due, long skippedBefore)
    {
        var key = due > 0 ? RunKey(due.ToString(System.Globalization.CultureInfo.InvariantCulture)) : RunKey($"trigger:{Guid.NewGuid():N}");
        var (request, partition) = RunRequest(key, due > 0 ? due.ToString(System.Globalization.CultureInfo.InvariantCulture) : "manual");
        _partitions.Ask<object>(new PartitionEnvelope(partition, request), EnqueueTimeout)
            .PipeTo(Self, success: reply => new RunEnqueued(attempt, due, skippedBefore, reply, null),
                failure: _ => new RunEnqueued(attempt, due, skippedBefore, null, null));
    }

    /// <summary>
    /// The idempotency key of a run: <c>schedule:NAME:CREATED:DUE</c>. The creation time keeps a schedule deleted and
    /// created again under the same name from getting the old one's tasks back; clients cannot send keys with this
    /// prefix (<see cref="ScheduleRules.CheckNotReserved"/>), so nobody can enqueue a run in a schedule's place.
    /// </summary>
    private string RunKey(string run) =>
        $"{ScheduleRules.ReservedKeyPrefix}{_name}:{_state.CreatedAtUnixMs.ToString(System.Globalization.CultureInfo.InvariantCulture)}:{run}";

    private (Enqueue Request, string Partition) RunRequest(string key, string dueText)
    {
        var spec = _state.Spec!;
        var headers = new Dictionary<string, string>(spec.Task.Headers ?? [], StringComparer.Ordinal)
        {
            [ScheduleSpec.ScheduleHeader] = _name,
            [ScheduleSpec.DueHeader] = dueText,
        };
        var request = new Enqueue(spec.Queue, spec.Task with { IdempotencyKey = key, Headers = headers }, _ns);
        // The frontend's rule for keyed enqueues: the same run (and the same concurrency key) always reaches the same partition.
        var index = KeyRouting.PartitionOf(request.Task, _topology.PartitionsOf(_ns, spec.Queue))!.Value;
        return (request, new PartitionId(_ns, spec.Queue, index).EntityId);
    }

    private void OnRunEnqueued(RunEnqueued result)
    {
        if (result.Trigger is { } replyTo)
        {
            if (result.Reply is Enqueued triggered)
            {
                Persist(new ScheduleRan { DueUnixMs = 0, TaskId = triggered.TaskId }, e =>
                {
                    Apply(e);
                    replyTo.Tell(new ScheduleTriggered(_name, _ns, triggered.TaskId));
                    Plan();
                });
            }
            else
            {
                replyTo.Tell(result.Reply as Rejected ?? new Rejected(ErrorCode.Unavailable,
                    $"the queue did not answer within {EnqueueTimeout.TotalSeconds:0} s; the run may or may not have been enqueued"));
            }
            return;
        }
        if (result.Reply is Enqueued enqueued && result.Attempt == _attempt)
        {
            _failures = 0;
            Persist(new ScheduleRan { DueUnixMs = result.Due, TaskId = enqueued.TaskId, SkippedBefore = result.SkippedBefore }, e =>
            {
                _running = false;
                Apply(e);
                Plan();
            });
            return;
        }
        if (result.Attempt != _attempt)
        {
            // The schedule changed while the run was on its way (replaced, paused, deleted): decide again. A run that was
            // enqueued is found again by its key if the same due time is still to run.
            _running = false;
            Plan();
            return;
        }
        if (result.Reply is Rejected { Code: not (ErrorCode.Unavailable or ErrorCode.Overloaded or ErrorCode.QuotaExceeded) } permanent)
        {
            _log.Warning("Schedule {0}: the run due at {1} was refused ({2}); skipped", SafeText.Escape(PersistenceId, 300), result.Due,
                SafeText.Escape(permanent.Message, 300));
            _running = false;
            Persist(new ScheduleSkipped { UpToDueUnixMs = result.Due, Count = result.SkippedBefore + 1 }, e =>
            {
                Apply(e);
                Plan();
            });
            return;
        }
        if (result.Reply is Rejected { Code: ErrorCode.Overloaded or ErrorCode.QuotaExceeded } && !_runMayHaveLanded)
            _state.ForgetPending(); // refused before anything was written: the retry decides again (lateness, missed-run policy)
        else if (result.Reply is null or Rejected { Code: ErrorCode.Unavailable })
            _runMayHaveLanded = true;
        RetryLater(result.Reply as Rejected);
    }

    private void RetryLater(Rejected? why)
    {
        _running = false;
        _failures++;
        var delay = TimeSpan.FromMilliseconds(Math.Min(MaxRetryDelay.TotalMilliseconds, 1000 * Math.Pow(2, Math.Min(10, _failures - 1))));
        if (_failures == 1 || _failures % 10 == 0)
            _log.Warning("Schedule {0}: a run could not be enqueued ({1}); trying again in {2:0.#} s", SafeText.Escape(PersistenceId, 300),
                SafeText.Escape(why?.Message ?? "no answer", 300), delay.TotalSeconds);
        Timers.StartSingleTimer(TickKey, new Tick(_attempt), delay);
    }

    private void Trigger()
    {
        if (!_state.Exists)
        {
            Sender.Tell(NotFound());
            return;
        }
        var (request, partition) = RunRequest(RunKey($"trigger:{Guid.NewGuid():N}"), "manual");
        var replyTo = Sender;
        var attempt = _attempt;
        _partitions.Ask<object>(new PartitionEnvelope(partition, request), EnqueueTimeout)
            .PipeTo(Self, success: reply => new RunEnqueued(attempt, 0, 0, reply, replyTo),
                failure: _ => new RunEnqueued(attempt, 0, 0, null, replyTo));
    }

    private sealed record Tick(long Attempt);
    private sealed record RunChecked(long Attempt, long Due, long SkippedBefore, object? Reply);
    private sealed record RunEnqueued(long Attempt, long Due, long SkippedBefore, object? Reply, IActorRef? Trigger);
}
