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

    private sealed record Waiting(IScheduleRequest Request, IActorRef ReplyTo, long SinceTicks);
    private sealed record Done(string Namespace, IActorRef ReplyTo, object Reply);

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
            if (_busy.TryGetValue(ns, out var queue)) queue.Enqueue(waiting);
            else
            {
                _busy[ns] = new Queue<Waiting>();
                Start(ns, waiting);
            }
        });
        Receive<Done>(done =>
        {
            done.ReplyTo.Tell(done.Reply);
            var queue = _busy[done.Namespace];
            if (queue.Count == 0) _busy.Remove(done.Namespace);
            else Start(done.Namespace, queue.Dequeue());
        });
    }

    public static Props Props(IActorRef schedules, int limit, TimeSpan fanOut, Func<IReadOnlyList<Address>> hosts) =>
        Akka.Actor.Props.Create(() => new ScheduleGate(schedules, limit, fanOut, hosts));

    private void Start(string ns, Waiting next)
    {
        var waited = Stopwatch.GetElapsedTime(next.SinceTicks);
        if (waited >= AnswerWithin)
        {
            Self.Tell(new Done(ns, next.ReplyTo, new Rejected(ErrorCode.Unavailable,
                $"schedule '{next.Request.Name}' in namespace {ns}: waited {waited.TotalSeconds:0} s behind other changes of the namespace; not carried out, retry")));
            return;
        }
        var hosts = next.Request is PutSchedule ? _hosts() : [];
        Handle(ns, next.Request, hosts, AnswerWithin - waited).PipeTo(Self,
            success: reply => new Done(ns, next.ReplyTo, reply),
            failure: e => new Done(ns, next.ReplyTo, new Rejected(ErrorCode.Unavailable, $"schedule '{next.Request.Name}' in namespace {ns}: {e.Message}")));
    }

    /// <summary>The schedule's answer, or the refusal of a creation past the limit (off the actor's thread: no Context here).</summary>
    private async Task<object> Handle(string ns, IScheduleRequest request, IReadOnlyList<Address> hosts, TimeSpan left)
    {
        var started = Stopwatch.GetTimestamp();
        if (request is PutSchedule put && await CountFor(put, ns, hosts) is { } refused)
        {
            ScheduleAudit.Refused(_log, put, refused);
            return refused;
        }
        if (request is IScheduleChange change) ScheduleAudit.Log(_log, change);
        var remaining = left - Stopwatch.GetElapsedTime(started);
        try
        {
            return await _schedules.Ask<object>(request, remaining > TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1));
        }
        catch (AskTimeoutException)
        {
            return new Rejected(ErrorCode.Unavailable, $"schedule '{request.Name}' in namespace {ns} did not answer in time; a change may or may not have been made");
        }
    }

    /// <summary>
    /// Null when <paramref name="put"/> may go on: it changes a schedule that exists, or the namespace runs fewer than the
    /// limit's schedule entities. Otherwise QuotaExceeded, or Unavailable when a node did not say which it runs (a new
    /// schedule cannot be counted then). Only entities already running are asked, so counting starts none and keeps none
    /// alive beyond the one named.
    /// </summary>
    private async Task<Rejected?> CountFor(PutSchedule put, string ns, IReadOnlyList<Address> hosts)
    {
        var (names, unanswered) = await ScheduleDirectory.Names(_system, hosts, ns, _fanOut);
        if (names.Remove(put.Name))
        {
            object? state;
            try { state = await _schedules.Ask<object>(new GetSchedule(put.Name, ns), _fanOut); }
            catch (AskTimeoutException) { state = null; }
            if (state is ScheduleInfo) return null; // a change of a schedule that exists
            if (state is not Rejected { Code: ErrorCode.ScheduleNotFound })
                return new Rejected(ErrorCode.Unavailable, $"schedule '{put.Name}' in namespace {ns} did not answer; retry");
        }
        if (unanswered.Count > 0)
            return new Rejected(ErrorCode.Unavailable,
                $"could not count the schedules of namespace {ns} to create '{put.Name}': {string.Join(", ", unanswered)} did not answer; retry");
        return names.Count >= _limit
            ? new Rejected(ErrorCode.QuotaExceeded,
                $"namespace {ns} has {names.Count} schedules (names deleted or looked up in the last {ScheduleEntity.IdleStopAfter.TotalSeconds:0} s count too), " +
                $"its limit (--max-schedules-per-namespace {_limit}): delete one, or raise the limit")
            : null;
    }
}
