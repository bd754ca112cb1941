using Akka.Actor;
using Akka.Event;
using Conduit.Server.Gossip;
using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

/// <summary>
/// One queue partition: a cluster-sharding entity that owns the partition's matching state. It decides (through
/// the pure <see cref="PartitionEngine"/>); its child <see cref="TaskWriter"/> writes. Requests that arrive while it
/// recovers wait; while storage is down it answers <see cref="ErrorCode.Unavailable"/> and tries again later.
/// </summary>
public sealed class QueuePartition : ReceiveActor, IWithStash, IWithTimers, IPartitionEffects
{
    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record PollDeadline(long PollId);
    private sealed class GossipTick
    {
        public static readonly GossipTick Instance = new();
    }
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
    private long _idleSinceMs = -1;
    private PartitionLoad? _lastLoad;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly BacklogReader _reader;
    private IActorRef _writer = ActorRefs.Nobody;
    private PartitionEngine? _engine;
    private bool _ticking;
    private readonly PartitionCensus? _census;
    private readonly UnansweredAppends _unanswered = new();
    /// <summary>When the partition stopped serving (<see cref="Environment.TickCount64"/>), or -1 while it serves: outages are logged when they start and end, not at every retry.</summary>
    private long _unavailableSinceMs = -1;

    public QueuePartition(PartitionId id, PartitionOptions options, PartitionCensus? census = null)
    {
        _id = id;
        _options = options;
        _census = census;
        _reader = new BacklogReader(Context.System, PersistenceIdOf(id));
        Recovering();
    }

    public static Props Props(PartitionId id, PartitionOptions options, PartitionCensus? census = null) =>
        Akka.Actor.Props.Create(() => new QueuePartition(id, options, census));

    public static string PersistenceIdOf(PartitionId id) => "partition-" + id.EntityId;

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

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
        _writer = Context.ActorOf(TaskWriter.Props(PersistenceIdOf(_id), _options, Self), "writer-" + Guid.NewGuid().ToString("N")[..8]);
        Context.Watch(_writer);
        Timers.StartSingleTimer("recovery-wait", RecoveryWaitOver.Instance, TimeSpan.FromMilliseconds(_options.RecoveryWaitMs));
        Timers.StartSingleTimer("recovery-timeout", RecoveryTimedOut.Instance, TimeSpan.FromMilliseconds(_options.RecoveryTimeoutMs));
    }

    private void Recovering()
    {
        var waitOver = false;
        // Only the current writer speaks for the partition: a note from one stopped before (a restart, a retry) is ignored.
        Receive<TaskWriter.Recovered>(_ => Sender.Equals(_writer), recovered =>
        {
            Timers.Cancel("recovery-wait");
            Timers.Cancel("recovery-timeout");
            _engine = new PartitionEngine(_id, _options, recovered.Durable, this);
            if (_unavailableSinceMs >= 0)
            {
                _log.Info("Partition {0} serves again after {1:F1} s unavailable", _id, (Environment.TickCount64 - _unavailableSinceMs) / 1000.0);
                _unavailableSinceMs = -1;
            }
            _log.Info("Partition {0} recovered at event {1}, epoch {2}: {3} ready, {4} other live tasks",
                _id, recovered.Durable.LastEventSeqNr, recovered.Durable.Epoch, recovered.Durable.TotalFresh, recovered.Durable.Exceptions.Count);
            Timers.StartPeriodicTimer("gossip", GossipTick.Instance, TimeSpan.FromMilliseconds(_options.GossipIntervalMs));
            Become(Active);
            TickIfNeeded();
            Stash.UnstashAll();
        });
        Receive<TaskWriter.Failed>(_ => Sender.Equals(_writer), failed => BecomeUnavailable(failed.Cause.Message));
        Receive<Terminated>(t => t.ActorRef.Equals(_writer), _ => BecomeUnavailable("the writer stopped during recovery"));
        // A long replay is not a hang: the timeout counts from the writer's last sign of progress.
        Receive<TaskWriter.RecoveryProgress>(_ => Sender.Equals(_writer), _ =>
            Timers.StartSingleTimer("recovery-timeout", RecoveryTimedOut.Instance, TimeSpan.FromMilliseconds(_options.RecoveryTimeoutMs)));
        Receive<IPartitionRequest>(_ =>
        {
            if (waitOver) Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is still recovering; retry"));
            else Stash.Stash();
        });
        Receive<RecoveryWaitOver>(_ =>
        {
            // The storage is slow or away: whoever waits gets an answer now; the recovery goes on.
            waitOver = true;
            if (OutageStarts())
                _log.Warning("Partition {0} has not recovered within {1} ms; answering Unavailable until it has", _id, _options.RecoveryWaitMs);
            foreach (var envelope in Stash.ClearStash())
                envelope.Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is still recovering; retry"));
        });
        Receive<RecoveryTimedOut>(_ => BecomeUnavailable($"recovery made no progress for {_options.RecoveryTimeoutMs} ms"));
        Receive<PartitionHandOff>(_ =>
        {
            // Moving while recovering: whoever waits is told to retry (they reach the new owner), not left to time out.
            foreach (var envelope in Stash.ClearStash())
                envelope.Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is moving to another node; retry"));
            Context.Stop(Self);
        });
    }

    private void Active()
    {
        Receive<IPartitionRequest>(request =>
        {
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
            TickIfNeeded();
        });
        Receive<TaskWriter.Persisted>(_ => Sender.Equals(_writer), p =>
        {
            _unanswered.Answered(p.Answered);
            _engine!.OnPersisted(p.Batch, p.SeqNr);
            TickIfNeeded();
        });
        Receive<JournalPage>(page => { _engine!.OnJournalPage(page); TickIfNeeded(); });
        Receive<ReadFailed>(failed =>
        {
            _log.Warning(failed.Cause, "Paging in from the journal of {0} failed; trying again", _id);
            _engine!.OnReadFailed(failed.Request);
            TickIfNeeded();
        });
        Receive<Tick>(_ =>
        {
            _engine!.OnTick();
            if (!_engine.NeedsTick)
            {
                Timers.Cancel("tick");
                _ticking = false;
            }
        });
        Receive<PartitionHandOff>(_ => HandOff());
        Receive<GossipTick>(_ =>
        {
            Gossip();
            _engine!.OnHousekeeping();
            PassivateWhenIdle();
        });
        Receive<PollDeadline>(d => _engine!.OnPollDeadline(d.PollId));
        Receive<TaskWriter.CompactionFailed>(_ => _engine!.OnCompactionFailed());
        Receive<TaskWriter.Failed>(_ => Sender.Equals(_writer), failed =>
        {
            AnswerOrphans(failed.Answered, failed.Cause.Message);
            BecomeUnavailable(failed.Cause.Message);
        });
        Receive<Terminated>(t => t.ActorRef.Equals(_writer), _ =>
        {
            AnswerOrphans(null, "the writer stopped");
            BecomeUnavailable("the writer stopped");
        });
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

    /// <summary>Reports this partition's load to the node's <see cref="LoadPublisher"/> when it changed.</summary>
    private void Gossip()
    {
        var load = _engine!.Load();
        if (_lastLoad is { } last && last with { AtUnixMs = load.AtUnixMs } == load) return;
        _lastLoad = load;
        Context.ActorSelection(LoadPublisher.Path).Tell(new LoadPublisher.Report(_id.EntityId, load));
    }

    protected override void PostStop()
    {
        _census?.Stopped();
        Context.ActorSelection(LoadPublisher.Path).Tell(new LoadPublisher.Report(_id.EntityId, null));
    }

    /// <summary>An empty partition nobody uses passivates, so sharding (with remember-entities) stops restarting it.</summary>
    private void PassivateWhenIdle()
    {
        var now = Environment.TickCount64;
        if (!_engine!.IsIdle) { _idleSinceMs = -1; return; }
        if (_idleSinceMs < 0) { _idleSinceMs = now; return; }
        if (now - _idleSinceMs < _options.PassivateIdleAfterMs) return;
        _idleSinceMs = -1;
        Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(PartitionHandOff.Instance));
    }

    /// <summary>
    /// Moving to another node (or passivating): stop dispatching, let the writer make everything decided durable
    /// (including dispatch hints, so the next owner holds running tasks rather than redelivering them), then stop.
    /// </summary>
    private void HandOff()
    {
        var engine = _engine!;
        Timers.CancelAll();
        engine.AbandonPollers(new Polled([]));
        if (engine.Outstanding == 0) { Context.Stop(Self); return; }
        Become(() =>
        {
            Receive<TaskWriter.Persisted>(_ => Sender.Equals(_writer), p =>
            {
                _unanswered.Answered(p.Answered);
                engine.OnPersisted(p.Batch, p.SeqNr);
                engine.AbandonPollers(new Polled([]));
                if (engine.Outstanding == 0) Context.Stop(Self);
            });
            Receive<Poll>(_ => Sender.Tell(new Polled([])));
            Receive<IPartitionRequest>(_ => Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is moving to another node; retry")));
            Receive<TaskWriter.Failed>(_ => Sender.Equals(_writer), failed =>
            {
                AnswerOrphans(failed.Answered, failed.Cause.Message);
                Context.Stop(Self);
            });
            Receive<Terminated>(_ =>
            {
                AnswerOrphans(null, "the writer stopped");
                Context.Stop(Self);
            });
            ReceiveAny(_ => { });
        });
    }

    /// <summary>
    /// Storage failed. In-memory state may be ahead of the journal, so drop it: answer Unavailable for a while,
    /// then recover from the journal with a new writer.
    /// </summary>
    /// <summary>Marks the start of an outage; false when the partition was already out of service (the retry is not logged as news).</summary>
    private bool OutageStarts()
    {
        if (_unavailableSinceMs >= 0) return false;
        _unavailableSinceMs = Environment.TickCount64;
        return true;
    }

    private void BecomeUnavailable(string reason)
    {
        if (OutageStarts()) _log.Warning("Partition {0} is unavailable ({1}); recovering every {2} ms until it serves again", _id, reason, _options.RecoveryBackoffMs);
        else _log.Debug("Partition {0} is still unavailable ({1})", _id, reason);
        _engine?.AbandonPollers(new Rejected(ErrorCode.Unavailable, $"partition {_id} lost its storage: {reason}"));
        _engine = null;
        Timers.CancelAll();
        _ticking = false;
        Context.Unwatch(_writer);
        Context.Stop(_writer);
        foreach (var envelope in Stash.ClearStash())
            envelope.Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is unavailable: {reason}"));
        Become(() =>
        {
            Receive<IPartitionRequest>(_ => Sender.Tell(new Rejected(ErrorCode.Unavailable, $"partition {_id} is unavailable: {reason}")));
            Receive<RetryRecovery>(_ =>
            {
                Become(Recovering);
                StartRecovery();
            });
            Receive<PartitionHandOff>(_ => Context.Stop(Self));
            ReceiveAny(_ => { }); // late replies of the old writer and reader
        });
        Timers.StartSingleTimer("retry-recovery", RetryRecovery.Instance, TimeSpan.FromMilliseconds(_options.RecoveryBackoffMs));
    }

    /// <summary>The periodic tick runs only while the engine has time-driven work (leases, delayed tasks, paging).</summary>
    private void TickIfNeeded()
    {
        if (_ticking || _engine is not { NeedsTick: true }) return;
        _ticking = true;
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromMilliseconds(_options.TickMs));
    }

    // ---- IPartitionEffects ----

    void IPartitionEffects.Reply(object replyTo, object message) => ((IActorRef)replyTo).Tell(message);

    void IPartitionEffects.Append(BatchEntry[] entries, object? replyTo, object? reply)
    {
        _unanswered.Add(reply is null ? null : (IActorRef?)replyTo);
        _writer.Tell(new TaskWriter.Append(entries, (IActorRef?)replyTo, reply));
    }

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

    void IPartitionEffects.Read(ReadRequest request) =>
        _reader.ReadAsync(request).PipeTo(Self, success: page => page, failure: ex => new ReadFailed(request, ex));

    void IPartitionEffects.SaveSnapshot(PartitionSnapshot snapshot, long seqNr, long deleteEventsUpTo) =>
        _writer.Tell(new TaskWriter.SaveSnapshotRequest(snapshot, seqNr, deleteEventsUpTo));

    void IPartitionEffects.SchedulePollDeadline(long pollId, long delayMs) =>
        Timers.StartSingleTimer(("poll", pollId), new PollDeadline(pollId), TimeSpan.FromMilliseconds(delayMs));

    void IPartitionEffects.CancelPollDeadline(long pollId) => Timers.Cancel(("poll", pollId));
}
