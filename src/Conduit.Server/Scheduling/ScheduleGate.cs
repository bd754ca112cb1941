using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Conduit.Server.Hosting;

namespace Conduit.Server.Scheduling;

/// <summary>
/// Where a node's schedule requests go once their names (and a new spec) are checked (<see cref="Management.ManagementActor"/>).
/// One namespace's requests are handled one at a time, in the order they came, each answered by its schedule before the
/// next goes: a pause sent right after a save acts on the saved schedule, and two creations through this node are
/// counted one after the other. A save that would create a schedule is first counted against the namespace's limit
/// (<see cref="ConduitServerOptions.MaxSchedulesPerNamespace"/>; docs/schedules.md, "How many"). A request that waited
/// longer than its answer would take to reach the CLI is answered Unavailable without being carried out.
/// </summary>
internal sealed class ScheduleGate : ReceiveActor
{
    /// <summary>How long a request may take here in all, waiting and asking: 8 s, under the CLI's default 10 s timeout.</summary>
    public static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(8);

    private readonly IActorRef _schedules;
    private readonly int _limit;
    private readonly TimeSpan _fanOut;
    private readonly Func<IReadOnlyList<Address>> _hosts;
    private readonly ActorSystem _system = Context.System;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    /// <summary>Per namespace with a request being handled: the requests waiting behind it.</summary>
    private readonly Dictionary<string, Queue<Waiting>> _busy = new(StringComparer.Ordinal);
    /// <summary>Per namespace: the request being handled.</summary>
    private readonly Dictionary<string, Waiting> _inFlight = new(StringComparer.Ordinal);

    /// <summary>A request, its asker, and when it came (<see cref="Stopwatch.GetTimestamp"/>); compared by reference.</summary>
    private sealed class Waiting(IScheduleRequest request, IActorRef replyTo, long sinceTicks)
    {
        public IScheduleRequest Request { get; } = request;
        public IActorRef ReplyTo { get; } = replyTo;
        public long SinceTicks { get; } = sinceTicks;
    }

    private sealed record Done(string Namespace, Waiting For, object Reply);

    /// <param name="hosts">The task-service nodes now (read on this actor's thread, before anything is asked).</param>
    public ScheduleGate(IActorRef schedules, int limit, TimeSpan fanOut, Func<IReadOnlyList<Address>> hosts)
    {
        _schedules = schedules;
        _limit = limit;
        _fanOut = fanOut;
        _hosts = hosts;
        Receive<IScheduleRequest>(request =>
        {
            var ns = NamespaceName.OrDefault(request.Namespace);
            var waiting = new Waiting(request, Sender, Stopwatch.GetTimestamp());
            if (!_busy.TryGetValue(ns, out var queue))
            {
                _busy[ns] = new Queue<Waiting>();
                Start(ns, waiting);
            }
            else if (queue.Count >= MaxWaiting)
                Sender.Tell(new Rejected(ErrorCode.Unavailable, $"{MaxWaiting} schedule requests of namespace {ns} already wait on this node; retry"));
            else queue.Enqueue(waiting);
        });
        Receive<Done>(done =>
        {
            done.For.ReplyTo.Tell(done.Reply);
            // Only the answer of the request in flight moves its namespace on (one from before a restart does not).
            if (!_inFlight.TryGetValue(done.Namespace, out var current) || !ReferenceEquals(current, done.For)) return;
            _inFlight.Remove(done.Namespace);
            var queue = _busy[done.Namespace];
            if (queue.Count == 0) _busy.Remove(done.Namespace);
            else Start(done.Namespace, queue.Dequeue());
        });
    }

    /// <summary>Most requests that may wait behind one namespace's request in flight; more are refused with Unavailable.</summary>
    public const int MaxWaiting = 1_000;

    public static Props Props(IActorRef schedules, int limit, TimeSpan fanOut, Func<IReadOnlyList<Address>> hosts) =>
        Akka.Actor.Props.Create(() => new ScheduleGate(schedules, limit, fanOut, hosts));

    /// <summary>Whoever still waits gets an answer when the gate goes (a restart, or the node stopping).</summary>
    protected override void PostStop()
    {
        foreach (var (ns, queue) in _busy)
            foreach (var waiting in queue)
                waiting.ReplyTo.Tell(new Rejected(ErrorCode.Unavailable, $"schedule '{waiting.Request.Name}' in namespace {ns}: not carried out (the node's schedule gate stopped); retry"));
        _busy.Clear();
        _inFlight.Clear();
    }

    private void Start(string ns, Waiting next)
    {
        _inFlight[ns] = next;
        var left = AnswerWithin - Stopwatch.GetElapsedTime(next.SinceTicks);
        try
        {
            Handle(ns, next.Request, next.Request is PutSchedule ? _hosts() : [], Stopwatch.GetTimestamp(), left).PipeTo(Self,
                success: reply => new Done(ns, next, reply),
                failure: e => new Done(ns, next, new Rejected(ErrorCode.Unavailable, $"schedule '{next.Request.Name}' in namespace {ns}: {e.Message}")));
        }
        catch (Exception e)
        {
            Self.Tell(new Done(ns, next, new Rejected(ErrorCode.Unavailable, $"schedule '{next.Request.Name}' in namespace {ns}: {e.Message}")));
        }
    }

    /// <summary>What is left of <paramref name="left"/> since <paramref name="since"/>.</summary>
    private static TimeSpan Remaining(long since, TimeSpan left) => left - Stopwatch.GetElapsedTime(since);

    /// <summary>Not carried out: too little time was left to ask the schedule (the asker would have given up).</summary>
    private static Rejected TooLate(IScheduleRequest request, string ns) =>
        new(ErrorCode.Unavailable, $"schedule '{request.Name}' in namespace {ns}: not carried out, it waited too long behind other requests of the namespace; retry");

    /// <summary>
    /// The schedule's answer, or the refusal of a creation past the limit, all within <paramref name="left"/> from
    /// <paramref name="since"/> (off the actor's thread: no Context here).
    /// </summary>
    private async Task<object> Handle(string ns, IScheduleRequest request, IReadOnlyList<Address> hosts, long since, TimeSpan left)
    {
        if (Remaining(since, left) < MinAsk)
        {
            if (request is PutSchedule late) ScheduleAudit.Refused(_log, late, TooLate(request, ns));
            return TooLate(request, ns);
        }
        if (request is PutSchedule put && await CountFor(put, ns, hosts, since, left) is { } refused)
        {
            ScheduleAudit.Refused(_log, put, refused);
            return refused;
        }
        var remaining = Remaining(since, left);
        if (remaining < MinAsk)
        {
            if (request is PutSchedule counted) ScheduleAudit.Refused(_log, counted, TooLate(request, ns));
            return TooLate(request, ns);
        }
        if (request is IScheduleChange change) ScheduleAudit.Log(_log, change);
        try
        {
            return await _schedules.Ask<object>(request, remaining);
        }
        catch (AskTimeoutException)
        {
            return new Rejected(ErrorCode.Unavailable, $"schedule '{request.Name}' in namespace {ns} did not answer in time; a change may or may not have been made");
        }
    }

    /// <summary>The least time worth asking a schedule with: 250 ms.</summary>
    private static readonly TimeSpan MinAsk = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Null when <paramref name="put"/> may go on: it changes a schedule that exists, or the namespace runs fewer than the
    /// limit's schedule entities. Otherwise QuotaExceeded, or Unavailable when a node did not say which it runs (a new
    /// schedule cannot be counted then). Only the named schedule is asked: while its entity runs, and once more before a
    /// refusal (which starts its entity if it does not run), so counting starts and keeps alive no other entity.
    /// </summary>
    private async Task<Rejected?> CountFor(PutSchedule put, string ns, IReadOnlyList<Address> hosts, long since, TimeSpan left)
    {
        if (hosts.Count == 0) return new Rejected(ErrorCode.Unavailable, $"no task-service node is up to count the schedules of namespace {ns}; retry");
        TimeSpan Budget() => Remaining(since, left) is var r && r < _fanOut ? r : _fanOut;
        var (names, unanswered) = await ScheduleDirectory.Names(_system, hosts, ns, Budget());
        if (names.Remove(put.Name))
        {
            var state = Budget() < MinAsk ? null : await ScheduleDirectory.State(_schedules, put.Name, ns, Budget());
            if (state is ScheduleInfo) return null; // a change of a schedule that exists
            if (state is not Rejected { Code: ErrorCode.ScheduleNotFound })
                return new Rejected(ErrorCode.Unavailable, $"schedule '{put.Name}' in namespace {ns} did not answer; retry");
        }
        if (unanswered.Count > 0)
            return new Rejected(ErrorCode.Unavailable,
                $"could not count the schedules of namespace {ns} to create '{put.Name}': {string.Join(", ", unanswered)} did not answer; retry");
        if (names.Count < _limit) return null;
        // At the limit, and about to refuse: the schedule may exist where the count did not see it (a shard starting or
        // moving), so ask it, though that starts its entity when it does not.
        if (Budget() >= MinAsk && await ScheduleDirectory.State(_schedules, put.Name, ns, Budget()) is ScheduleInfo) return null;
        return new Rejected(ErrorCode.QuotaExceeded,
            $"namespace {ns} has {names.Count} schedules (names deleted or looked up in the last {ScheduleEntity.IdleStopAfter.TotalSeconds:0} s count too), " +
            $"its limit (--max-schedules-per-namespace {_limit}): delete one, or raise the limit");
    }
}
