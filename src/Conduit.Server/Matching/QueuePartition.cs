using Akka.Actor;
using Akka.Event;
using Conduit.Server.Gossip;
using Conduit.Server.Metrics;
using Conduit.Server.History;
using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

/// <summary>
/// One queue partition: a cluster-sharding entity that owns the partition's matching state. It decides (through
/// the pure <see cref="PartitionEngine"/>); its child <see cref="TaskWriter"/> writes. Requests that arrive while it
/// recovers wait; while storage is down it answers <see cref="ErrorCode.Unavailable"/> and tries again later.
/// <para>
/// An idle partition holds no periodic timer: after each message its <see cref="PartitionUpkeep"/> starts only the
/// timers its state asks for, so thousands of quiet queues cost no CPU.
/// </para>
/// <para>
/// Its states (recovering, active, handing off, unavailable) are each one switch, not ReceiveActor handlers: those are
/// delegates and closures made per actor for every handler of every state it enters, which was 2.4 KiB of every live
/// queue's memory (BENCHMARKS.md).
/// </para>
/// </summary>
public sealed class QueuePartition : UntypedActor, IWithStash, IWithTimers, IPartitionEffects
{
    private sealed record PollDeadline(long PollId);
    private sealed record ReadFailed(ReadRequest Request, Exception Cause);
    private sealed class RetryRecovery
    {
        public static readonly RetryRecovery Instance = new();
    }
    /// <summary>Requests have waited <see cref="PartitionOptions.RecoveryWaitMs"/> for this recovery: answer them.</summary>
    private sealed class RecoveryWaitOver
    {
        public static readonly RecoveryWaitOver Instance = new();
    }
    /// <summary>This recovery has shown no progress for <see cref="PartitionOptions.RecoveryTimeoutMs"/>: abandon it.</summary>
    private sealed class RecoveryTimedOut
    {
        public static readonly RecoveryTimedOut Instance = new();
    }

    private readonly PartitionId _id;
    private readonly PartitionOptions _options;
    private readonly int _partitions;
    /// <summary>Its timers while it serves.</summary>
    private readonly PartitionUpkeep _upkeep;
    /// <summary>Its recoveries and outages in the node's log.</summary>
    private readonly PartitionLog _log;
    private readonly BacklogReader _reader;
    private IActorRef _writer = ActorRefs.Nobody;
    private PartitionEngine? _engine;
    private readonly PartitionCensus? _census;
    private readonly UnansweredAppends _unanswered = new();
    private readonly ServerMetrics? _metrics;
    /// <summary>The node's task history (docs/results.md), or null.</summary>
    private readonly IActorRef? _history;
    /// <summary>This incarnation's figures for the node's metrics (registered while it lives; see <see cref="QueueStatsRegistry"/>).</summary>
    private readonly PartitionStats _stats;
    /// <summary>Recovering: requests have waited <see cref="PartitionOptions.RecoveryWaitMs"/>, so new ones are answered at once.</summary>
    private bool _recoveryWaitOver;
    /// <summary>Unavailable: why, for the answers.</summary>
    private string _unavailableReason = "";

    public QueuePartition(PartitionId id, PartitionOptions options, PartitionCensus? census = null, bool gossips = true, ServerMetrics? metrics = null,
        int partitions = 1, IActorRef? history = null)
    {
        _id = id;
        _history = history;
        _partitions = partitions;
        _options = options;
        _upkeep = new PartitionUpkeep(options, gossips);
        _census = census;
        _metrics = metrics;
        _stats = metrics?.Queues.Register(id.Namespace, id.Queue, metrics) ?? new PartitionStats(id.Namespace, id.Queue);
        _reader = new BacklogReader(Context.System, PersistenceIdOf(id));
        _log = new PartitionLog(id, Context.System.Log, () => Context.GetLogger()); // called on the actor's thread
    }

    /// <param name="gossips">Report load to the node's <see cref="LoadPublisher"/>: whether the queue has more than one partition.</param>
    /// <param name="metrics">The node's metrics (null: none, as in engine-level tests).</param>
    /// <param name="partitions">How many partitions the queue has (this partition enforces its share of the queue's limits).</param>
    /// <param name="history">The node's <see cref="TaskHistoryActor"/>; null when it keeps no task history.</param>
    public static Props Props(PartitionId id, PartitionOptions options, PartitionCensus? census = null, bool gossips = true, ServerMetrics? metrics = null,
        int partitions = 1, IActorRef? history = null) =>
        Akka.Actor.Props.Create(() => new QueuePartition(id, options, census, gossips, metrics, partitions, history));

    public static string PersistenceIdOf(PartitionId id) => "partition-" + id.EntityId;

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// A writer that throws is stopped, never restarted. A restarted writer would recover and claim an epoch (and, in a
    /// partition that has never written, make a lease key) of its own behind the engine's back, and the engine would go
    /// on with the old ones. Stopped, it is replaced as after a failed write (<see cref="BecomeUnavailable"/>), with a new
    /// engine on what the journal holds.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => StopChildren;

    private static readonly SupervisorStrategy StopChildren = new OneForOneStrategy(_ => Directive.Stop);

    /// <summary>Counted in by the entity factory (<see cref="PartitionCensus.TryAdmit"/>); counted out in <see cref="PostStop"/>.</summary>
    protected override void PreStart() => StartRecovery();

    /// <summary>A restart ran <see cref="PostStop"/>, which counted this partition out: count it in again.</summary>
    protected override void PostRestart(Exception reason)
    {
        _census?.Started();
        base.PostRestart(reason);
    }

    /// <summary>A new writer recovers the partition; requests wait for it, but never longer than the options say.</summary>
    private void StartRecovery()
    {
        _recoveryWaitOver = false;
        var writer = TaskWriter.Props(_reader.PersistenceId, _options, Self, _metrics); // one string for both
        // The writer lives as long as its partition and idles with it: it takes the partition's mailbox (CompactMailbox on a node).
        if (Context.Props.Mailbox == CompactMailbox.Id) writer = writer.WithMailbox(CompactMailbox.Id);
        _writer = Context.ActorOf(writer, "writer-" + Guid.NewGuid().ToString("N")[..8]);
        Context.Watch(_writer);
        Timers.StartSingleTimer("recovery-wait", RecoveryWaitOver.Instance, TimeSpan.FromMilliseconds(_options.RecoveryWaitMs));
        Timers.StartSingleTimer("recovery-timeout", RecoveryTimedOut.Instance, TimeSpan.FromMilliseconds(_options.RecoveryTimeoutMs));
    }

    /// <summary>The first behaviour: recovering (<see cref="Recovering"/>).</summary>
    protected override void OnReceive(object message) => Recovering(message);

    private void Recovering(object message)
    {
        // Only the current writer speaks for the partition: a note from one stopped before (a restart, a retry) is ignored.
        switch (message)
        {
            case TaskWriter.Recovered recovered when Sender.Equals(_writer):
                Timers.Cancel("recovery-wait");
                Timers.Cancel("recovery-timeout");
                _engine = new PartitionEngine(_id, _options, recovered.Durable, this, stats: _stats, partitions: _partitions);
                _log.Recovered(recovered.Durable);
                Become(Active);
                _engine.PublishGauges();
                _upkeep.Start(_engine, Timers);
                Stash.UnstashAll();
                break;
            case TaskWriter.Failed failed when Sender.Equals(_writer):
                BecomeUnavailable(failed.Cause.Message);
                break;
            case Terminated t when t.ActorRef.Equals(_writer):
                BecomeUnavailable("the writer stopped during recovery");
                break;
            // A long replay is not a hang: the timeout counts from the writer's last sign of progress.
            case TaskWriter.RecoveryProgress when Sender.Equals(_writer):
                Timers.StartSingleTimer("recovery-timeout", RecoveryTimedOut.Instance, TimeSpan.FromMilliseconds(_options.RecoveryTimeoutMs));
                break;
            case IPartitionRequest:
                if (_recoveryWaitOver) Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is still recovering; retry"));
                else Stash.Stash();
                break;
            case RecoveryWaitOver:
                // The storage is slow or away: whoever waits gets an answer now; the recovery goes on.
                _recoveryWaitOver = true;
                _log.RecoveryWaitOver(_options.RecoveryWaitMs);
                foreach (var envelope in Stash.ClearStash())
                    envelope.Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is still recovering; retry"));
                break;
            case RecoveryTimedOut:
                BecomeUnavailable($"recovery made no progress for {_options.RecoveryTimeoutMs} ms");
                break;
            case PartitionHandOff:
                // Moving while recovering: whoever waits is told to retry (they reach the new owner), not left to time out.
                foreach (var envelope in Stash.ClearStash())
                    envelope.Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is moving to another node; retry"));
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Active(object message)
    {
        switch (message)
        {
            case IPartitionRequest request:
                try
                {
                    _engine!.Handle(Sender, request);
                }
                catch (Exception)
                {
                    // A bug, not bad input (that is refused with a typed error): answer, then restart from the journal.
                    Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} failed on this request and restarts; retry"));
                    throw;
                }
                break;
            case TaskWriter.Persisted p when Sender.Equals(_writer):
                _unanswered.Answered(p.Answered);
                _engine!.OnPersisted(p.Batch, p.SeqNr);
                break;
            case JournalPage page:
                _engine!.OnJournalPage(page);
                break;
            case ReadFailed failed:
                _log.ReadFailed(failed.Cause);
                _engine!.OnReadFailed(failed.Request);
                break;
            case PartitionUpkeep.Tick:
                _upkeep.OnTick(_engine!, Timers);
                break;
            case PartitionHandOff:
                HandOff();
                break;
            case PartitionUpkeep.GossipTick:
                if (_upkeep.LoadToReport(_engine!) is { } load)
                    Context.ActorSelection(LoadPublisher.Path).Tell(new LoadPublisher.Report(_id.EntityId, load));
                break;
            case PartitionUpkeep.Housekeeping:
                _engine!.OnHousekeeping();
                break;
            case PartitionUpkeep.PassivateCheck:
                // An empty partition nobody uses passivates, so sharding (with remember-entities) stops restarting it.
                if (_upkeep.PassivationDue(_engine!, Timers))
                    Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(PartitionHandOff.Instance));
                break;
            case PollDeadline d:
                _engine!.OnPollDeadline(d.PollId);
                break;
            case TaskWriter.CompactionFailed:
                _engine!.OnCompactionFailed();
                break;
            case TaskWriter.Failed failed when Sender.Equals(_writer):
                AnswerOrphans(failed.Answered, failed.Cause.Message);
                BecomeUnavailable(failed.Cause.Message);
                break;
            case Terminated t when t.ActorRef.Equals(_writer):
                AnswerOrphans(null, "the writer stopped");
                BecomeUnavailable("the writer stopped");
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>Whatever made it fail, nobody waits forever: waiting pollers get Unavailable before the restart.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        _engine?.AbandonPollers(new Rejected(ErrorCode.Unavailable, $"partition {_id} restarted after an internal error; retry"));
        // The writer stops with this incarnation; what it had not answered is answered Unavailable here, which (as for
        // any failed write) says the outcome is unknown: a write in flight may still commit, its own answer then coming second.
        AnswerOrphans(null, "the partition restarted");
        base.PreRestart(reason, message);
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        var handled = base.AroundReceive(receive, message);
        if (_upkeep.Serving)
        {
            _engine!.PublishGauges();
            _upkeep.AfterMessage(message, _engine, Timers);
        }
        return handled;
    }

    protected override void PostStop()
    {
        _census?.Stopped();
        _metrics?.Queues.Unregister(_stats);
        if (_upkeep.HasReported) Context.ActorSelection(LoadPublisher.Path).Tell(new LoadPublisher.Report(_id.EntityId, null));
    }

    /// <summary>
    /// Moving to another node (or passivating): stop dispatching, let the writer make everything decided durable
    /// (including dispatch hints, so the next owner holds running tasks rather than redelivering them), then stop.
    /// </summary>
    private void HandOff()
    {
        var engine = _engine!;
        _upkeep.Stop(Timers);
        engine.AbandonPollers(new Polled([]));
        if (engine.Outstanding == 0) { Context.Stop(Self); return; }
        Become(HandingOff);
    }

    /// <summary>Handing off: waits for the writer to make everything decided durable, then stops; answers nothing new.</summary>
    private void HandingOff(object message)
    {
        var engine = _engine!;
        switch (message)
        {
            case TaskWriter.Persisted p when Sender.Equals(_writer):
                _unanswered.Answered(p.Answered);
                engine.OnPersisted(p.Batch, p.SeqNr);
                engine.AbandonPollers(new Polled([]));
                if (engine.Outstanding == 0) Context.Stop(Self);
                break;
            case Poll:
                Sender.Tell(new Polled([]));
                break;
            case IPartitionRequest:
                Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is moving to another node; retry"));
                break;
            case TaskWriter.Failed failed when Sender.Equals(_writer):
                AnswerOrphans(failed.Answered, failed.Cause.Message);
                Context.Stop(Self);
                break;
            case Terminated:
                AnswerOrphans(null, "the writer stopped");
                Context.Stop(Self);
                break;
        }
    }

    /// <summary>
    /// Storage failed. In-memory state may be ahead of the journal, so drop it: answer Unavailable for a while,
    /// then recover from the journal with a new writer.
    /// </summary>
    private void BecomeUnavailable(string reason)
    {
        _log.Unavailable(reason, _options.RecoveryBackoffMs);
        _engine?.AbandonPollers(new Rejected(ErrorCode.Unavailable, $"partition {_id} lost its storage: {reason}"));
        _engine = null;
        _upkeep.Stop(Timers);
        Context.Unwatch(_writer);
        Context.Stop(_writer);
        foreach (var envelope in Stash.ClearStash())
            envelope.Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is unavailable: {reason}"));
        _unavailableReason = reason;
        Become(Unavailable);
        Timers.StartSingleTimer("retry-recovery", RetryRecovery.Instance, TimeSpan.FromMilliseconds(_options.RecoveryBackoffMs));
    }

    /// <summary>Out of service until <see cref="RetryRecovery"/>; late replies of the old writer and reader are dropped.</summary>
    private void Unavailable(object message)
    {
        switch (message)
        {
            case IPartitionRequest:
                Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is unavailable: {_unavailableReason}"));
                break;
            case RetryRecovery:
                Become(Recovering);
                StartRecovery();
                break;
            case PartitionHandOff:
                Context.Stop(Self);
                break;
        }
    }

    // ---- IPartitionEffects ----

    void IPartitionEffects.Reply(object replyTo, object message) => ((IActorRef)replyTo).Tell(message);

    void IPartitionEffects.Append(BatchEntry[] entries, object? replyTo, object? reply, HistoryRecord[]? history)
    {
        _unanswered.Add(reply is null ? null : (IActorRef?)replyTo);
        // With history: once the entries are durable the writer hands the answer to the task history, which sends it on
        // once the history has the changes too.
        _writer.Tell(history is not null && _history is not null
            ? new TaskWriter.Append(entries, _history, new TaskHistoryActor.RecordThenReply(history, (IActorRef?)replyTo, reply))
            : new TaskWriter.Append(entries, (IActorRef?)replyTo, reply));
    }

    bool IPartitionEffects.KeepsHistory => _history is not null;

    void IPartitionEffects.History(HistoryRecord[] records) => _history?.Tell(new TaskHistoryActor.Record(records));

    void IPartitionEffects.Describe(object replyTo, TaskInfo info)
    {
        if (_history is null) ((IActorRef)replyTo).Tell(info);
        else _history.Tell(new TaskHistoryReader.Describe(info, (IActorRef)replyTo));
    }

    void IPartitionEffects.ListSettled(object replyTo, ListTasks list, TaskListCursor? cursor) =>
        _history?.Tell(new TaskHistoryReader.ListSettled(list, cursor, (IActorRef)replyTo));

    /// <summary>
    /// The writer is gone: answer <c>Unavailable</c> to every requester whose append it had not answered
    /// (<see cref="UnansweredAppends"/>); <paramref name="answered"/> is what it said it answered, null when it said nothing.
    /// </summary>
    private void AnswerOrphans(long? answered, string reason)
    {
        var orphans = _unanswered.Orphaned(answered);
        if (orphans.Count == 0) return;
        var unavailable = new Rejected(ErrorCode.Unavailable, $"partition {_id} lost its writer ({reason}); retry");
        foreach (var requester in orphans) requester.Tell(unavailable);
    }

    void IPartitionEffects.Read(ReadRequest request)
    {
        _metrics?.CountPageIn(request is ScanRequest);
        _reader.ReadAsync(request).PipeTo(Self, success: page => page, failure: ex => new ReadFailed(request, ex));
    }

    void IPartitionEffects.SaveSnapshot(PartitionSnapshot snapshot, long seqNr, long deleteEventsUpTo) =>
        _writer.Tell(new TaskWriter.SaveSnapshotRequest(snapshot, seqNr, deleteEventsUpTo));

    void IPartitionEffects.SchedulePollDeadline(long pollId, long delayMs) =>
        Timers.StartSingleTimer(("poll", pollId), new PollDeadline(pollId), TimeSpan.FromMilliseconds(delayMs));

    void IPartitionEffects.CancelPollDeadline(long pollId) => Timers.Cancel(("poll", pollId));
}
