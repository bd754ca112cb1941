using Akka.Actor;

namespace Conduit.Server.Frontend;

/// <summary>
/// Routes one long-poll over a queue's partitions (after Temporal's matching engine): in a busy system it asks one
/// partition at a time, busiest first, each for a short probe; when none has work it waits on all of them at once.
/// The first tasks win; the other waits are withdrawn, and any tasks they still hand out are released back undelivered,
/// so no task is lost or leased twice. Every partition it asks is one of the poll's own namespace and queue.
/// </summary>
public sealed class PollRouter : ReceiveActor
{
    private readonly IActorRef _region;
    private readonly IActorRef _client;
    private readonly Poll _poll;
    private readonly int _partitions;
    private readonly List<int> _busy;
    private readonly long _probeMs;
    private readonly long _deadline;
    private int _outstanding;
    private bool _answered;

    public PollRouter(IActorRef region, IActorRef client, Poll poll, int partitions, List<int> busiestFirst, long probeMs)
    {
        _region = region;
        _client = client;
        _poll = poll;
        _partitions = partitions;
        _busy = busiestFirst;
        _probeMs = probeMs;
        _deadline = Environment.TickCount64 + poll.WaitMs;
        Context.SetReceiveTimeout(TimeSpan.FromMilliseconds(poll.WaitMs + 30_000));
        if (_busy.Count > 0) Probe(0);
        else WaitOnAll();
    }

    public static Props Props(IActorRef region, IActorRef client, Poll poll, int partitions, List<int> busiestFirst, long probeMs) =>
        Akka.Actor.Props.Create(() => new PollRouter(region, client, poll, partitions, busiestFirst, probeMs));

    private long Remaining => Math.Max(0, _deadline - Environment.TickCount64);

    private void Send(int partition, IPartitionRequest request) =>
        _region.Tell(new PartitionEnvelope(PartitionId.Of(_poll.Namespace, _poll.Queue, partition).EntityId, request));

    private void Probe(int index)
    {
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
            Receive<ReceiveTimeout>(_ => Finish(new Polled([])));
        });
    }

    private void WaitOnAll()
    {
        // The client's poll id, when it gave one, so its CancelPoll withdraws these waits too.
        var pollId = _poll.PollId != 0 ? _poll.PollId : Matching.LeaseSigner.NewNonce(); // unguessable: a CancelPoll naming it withdraws the waits
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
                        foreach (var group in p.Tasks.GroupBy(t => LeaseToken.TryParse(t.LeaseToken, out var l) ? l.Task.Partition.Index : -1))
                            if (group.Key >= 0) Send(group.Key, new ReleaseTasks(group.Select(t => t.LeaseToken).ToArray()));
                    }
                }
                if (_outstanding == 0) Finish(new Polled([]));
            });
            Receive<Rejected>(r =>
            {
                _outstanding--;
                if (_outstanding == 0) Finish(r);
            });
            Receive<Released>(_ => { });
            Receive<ReceiveTimeout>(_ => Finish(new Polled([])));
        });
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
}
