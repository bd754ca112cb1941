using Akka.Actor;

namespace Conduit.Server.Frontend;

/// <summary>
/// Routes one long-poll over a queue's partitions (after Temporal's matching engine): in a busy system it asks one
/// partition at a time, busiest first, each for a short probe; when none has work it waits on all of them at once.
/// The first tasks win; the other waits are withdrawn, and any tasks they still hand out are released back undelivered,
/// so no task is lost or leased twice. Every partition it asks is one of the poll's own namespace and queue.
/// <para>
/// When the partitions have not answered by the poll's wait plus <see cref="DefaultAnswerMargin"/>, it answers the
/// client empty itself, and then stays for <see cref="DefaultLateAnswerGrace"/>: tasks a partition hands out after that
/// are released back (<see cref="ReleaseTasks"/>: ready again at once, no attempt used) instead of staying leased to
/// nobody until their lease runs out.
/// </para>
/// </summary>
public sealed class PollRouter : ReceiveActor, IWithTimers
{
    /// <summary>How long after the poll's wait the router answers by itself: 2 s (less than the gateway's margin, see <see cref="Gateway.RequestGate.PollAnswerMargin"/>).</summary>
    public static readonly TimeSpan DefaultAnswerMargin = TimeSpan.FromSeconds(2);

    /// <summary>How long the router stays after it answered, to release tasks still handed out to it: 10 s.</summary>
    public static readonly TimeSpan DefaultLateAnswerGrace = TimeSpan.FromSeconds(10);

    private readonly IActorRef _region;
    private readonly IActorRef _client;
    private readonly Poll _poll;
    private readonly int _partitions;
    private readonly List<int> _busy;
    private readonly long _probeMs;
    private readonly long _deadline;
    private readonly TimeSpan _answerMargin;
    private readonly TimeSpan _lateAnswerGrace;
    private int _outstanding;
    private bool _answered;
    /// <summary>The poll id of the waits in flight (0: none that a CancelPoll can name).</summary>
    private long _waitId;

    public PollRouter(IActorRef region, IActorRef client, Poll poll, int partitions, List<int> busiestFirst, long probeMs,
        TimeSpan? answerMargin = null, TimeSpan? lateAnswerGrace = null)
    {
        _region = region;
        _client = client;
        _poll = poll;
        _partitions = partitions;
        _busy = busiestFirst;
        _probeMs = probeMs;
        _answerMargin = answerMargin ?? DefaultAnswerMargin;
        _lateAnswerGrace = lateAnswerGrace ?? DefaultLateAnswerGrace;
        _deadline = Environment.TickCount64 + poll.WaitMs;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef region, IActorRef client, Poll poll, int partitions, List<int> busiestFirst, long probeMs,
        TimeSpan? answerMargin = null, TimeSpan? lateAnswerGrace = null) =>
        Akka.Actor.Props.Create(() => new PollRouter(region, client, poll, partitions, busiestFirst, probeMs, answerMargin, lateAnswerGrace));

    protected override void PreStart()
    {
        Timers.StartSingleTimer(GiveUp.Instance, GiveUp.Instance, TimeSpan.FromMilliseconds(_poll.WaitMs) + _answerMargin);
        if (_busy.Count > 0) Probe(0);
        else WaitOnAll();
    }

    private long Remaining => Math.Max(0, _deadline - Environment.TickCount64);

    private void Send(int partition, IPartitionRequest request) =>
        _region.Tell(new PartitionEnvelope(PartitionId.Of(_poll.Namespace, _poll.Queue, partition).EntityId, request));

    private void Probe(int index)
    {
        _waitId = _poll.PollId;
        Send(_busy[index], _poll with { WaitMs = Math.Min(_probeMs, Remaining) });
        Become(() =>
        {
            Receive<Polled>(p =>
            {
                if (p.Tasks.Length > 0) Finish(p);
                else if (index + 1 < _busy.Count && Remaining > 0) Probe(index + 1);
                else if (Remaining > 0) WaitOnAll();
                else Finish(p);
            });
            Receive<Rejected>(Finish);
            Receive<GiveUp>(_ => Linger());
        });
    }

    private void WaitOnAll()
    {
        // The client's poll id, when it gave one, so its CancelPoll withdraws these waits too.
        var pollId = _poll.PollId != 0 ? _poll.PollId : Matching.LeaseSigner.NewNonce(); // unguessable: a CancelPoll naming it withdraws the waits
        _waitId = pollId;
        _outstanding = _partitions;
        for (var p = 0; p < _partitions; p++) Send(p, _poll with { WaitMs = Remaining, PollId = pollId });
        Become(() =>
        {
            Receive<Polled>(p =>
            {
                _outstanding--;
                if (p.Tasks.Length > 0)
                {
                    if (!_answered)
                    {
                        Answer(p);
                        for (var i = 0; i < _partitions; i++) Send(i, new CancelPoll(_poll.Queue, pollId, _poll.Namespace));
                    }
                    else
                    {
                        // Handed out after another partition answered: give them back, undelivered.
                        Release(p);
                    }
                }
                if (_outstanding == 0) Finish(new Polled([]));
            });
            Receive<Rejected>(r =>
            {
                _outstanding--;
                if (_outstanding == 0) Finish(r);
            });
            Receive<GiveUp>(_ => Linger());
        });
    }

    /// <summary>
    /// The partitions did not answer in time: answer the client empty, withdraw the waits, and stay a while to release
    /// whatever is still handed out to this poll (nobody would ever see it otherwise).
    /// </summary>
    private void Linger()
    {
        if (!_answered) Answer(new Polled([]));
        if (_waitId != 0)
            for (var i = 0; i < _partitions; i++) Send(i, new CancelPoll(_poll.Queue, _waitId, _poll.Namespace));
        Timers.StartSingleTimer(GiveUp.Instance, GiveUp.Instance, _lateAnswerGrace);
        Become(() =>
        {
            Receive<Polled>(Release);
            Receive<Rejected>(_ => { });
            Receive<GiveUp>(_ => Context.Stop(Self));
        });
    }

    /// <summary>How long a release that met a moving or recovering partition is tried again: 15 s (about a lease).</summary>
    internal static readonly TimeSpan ReleaseRetryFor = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gives tasks back to the partitions that handed them out: ready again at once, no attempt used. Asked, not told,
    /// and asked again while the partition answers Unavailable or not at all (it may be handing off to another node, whose
    /// copy knows these leases from the dispatch hints): a release that is lost leaves the tasks leased to nobody until
    /// their lease runs out, and they come back with an attempt used. Releasing a lease that is already gone is a no-op,
    /// so asking twice is safe. The answers go to the asks, never to this router, which may have stopped.
    /// </summary>
    private void Release(Polled late)
    {
        foreach (var group in late.Tasks.GroupBy(t => LeaseToken.TryParse(t.LeaseToken, out var l) ? l.Task.Partition.Index : -1))
            if (group.Key >= 0 && group.Key < _partitions)
                _ = ReleaseAsync(_region, PartitionId.Of(_poll.Namespace, _poll.Queue, group.Key).EntityId, group.Select(t => t.LeaseToken).ToArray());
    }

    private static async Task ReleaseAsync(IActorRef region, string entityId, string[] leaseTokens)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var reply = await region.Ask<object>(new PartitionEnvelope(entityId, new ReleaseTasks(leaseTokens)), TimeSpan.FromSeconds(3))
                    .ConfigureAwait(false);
                if (reply is not Rejected { Code: ErrorCode.Unavailable }) return;
            }
            catch (AskTimeoutException)
            {
            }
            if (watch.Elapsed > ReleaseRetryFor) return;
            await Task.Delay(250).ConfigureAwait(false);
        }
    }

    private void Answer(object reply)
    {
        _answered = true;
        _client.Tell(reply);
    }

    private void Finish(object reply)
    {
        if (!_answered) Answer(reply);
        Context.Stop(Self);
    }

    private sealed class GiveUp
    {
        public static readonly GiveUp Instance = new();
    }
}
