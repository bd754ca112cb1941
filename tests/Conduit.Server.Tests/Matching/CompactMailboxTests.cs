using Akka.Actor;
using Akka.TestKit.Xunit2;
using Conduit.Server.Matching;
using CsCheck;
using Xunit;

namespace Conduit.Server.Tests.Matching;

/// <summary>The partitions' mailbox: a deque under a lock that lets go of its buffer once a burst is over.</summary>
public sealed class CompactMailboxTests() : TestKit(CompactMailbox.Hocon + "\nakka.loglevel = WARNING")
{
    private static Envelope Message(int i) => new(i, ActorRefs.NoSender);

    [Fact(DisplayName = "any mix of enqueues, stashed messages put back in front and dequeues keeps deque order, across growth and wrap-around")]
    public void BehavesAsADeque()
    {
        // 0 = Enqueue, 1 = EnqueueFirst, 2 = TryDequeue; runs long enough to grow the buffer and wrap around its end.
        Gen.Int[0, 2].Array[1, 300].Sample(ops =>
        {
            var queue = new CompactMessageQueue();
            var model = new LinkedList<int>();
            var next = 0;
            foreach (var op in ops)
            {
                switch (op)
                {
                    case 0: queue.Enqueue(ActorRefs.Nobody, Message(next)); model.AddLast(next++); break;
                    case 1: queue.EnqueueFirst(Message(next)); model.AddFirst(next++); break;
                    default:
                        var got = queue.TryDequeue(out var envelope);
                        Assert.Equal(model.Count > 0, got);
                        if (got)
                        {
                            Assert.Equal(model.First!.Value, envelope.Message);
                            model.RemoveFirst();
                        }
                        break;
                }
                Assert.Equal(model.Count, queue.Count);
                Assert.Equal(model.Count > 0, queue.HasMessages);
            }
            while (queue.TryDequeue(out var rest))
            {
                Assert.Equal(model.First!.Value, rest.Message);
                model.RemoveFirst();
            }
            Assert.Empty(model);
        });
    }

    [Fact(DisplayName = "an idle queue holds no buffer until its first message; a burst's buffer stays while bursts need it and goes after a small run")]
    public void LetsGoOfBursts()
    {
        var queue = new CompactMessageQueue();
        Assert.Equal(0, queue.Capacity);
        queue.Enqueue(ActorRefs.Nobody, Message(1));
        Assert.Equal(CompactMessageQueue.InitialCapacity, queue.Capacity);
        Assert.True(queue.TryDequeue(out _));
        Assert.Equal(CompactMessageQueue.InitialCapacity, queue.Capacity); // kept: the next message needs no allocation

        for (var burst = 0; burst < 3; burst++)
        {
            for (var i = 0; i < 1_000; i++) queue.Enqueue(ActorRefs.Nobody, Message(i));
            var grown = queue.Capacity;
            Assert.True(grown >= 1_000);
            for (var i = 0; i < 1_000; i++)
            {
                Assert.True(queue.TryDequeue(out var envelope));
                Assert.Equal(i, envelope.Message);
            }
            Assert.Equal(grown, queue.Capacity); // a busy actor keeps it for the next burst
        }

        // Quiet again: the next run of a few messages (a timer, a request) lets the burst's buffer go.
        queue.Enqueue(ActorRefs.Nobody, Message(1));
        queue.Enqueue(ActorRefs.Nobody, Message(2));
        Assert.True(queue.TryDequeue(out _));
        Assert.True(queue.Capacity >= 1_000); // not empty yet
        Assert.True(queue.TryDequeue(out var last));
        Assert.Equal(2, last.Message);
        Assert.Equal(0, queue.Capacity);
        Assert.False(queue.TryDequeue(out _));
    }

    [Fact(DisplayName = "messages of concurrent senders all arrive, each sender's in the order it sent them")]
    public async Task ConcurrentSenders()
    {
        const int senders = 4, each = 20_000;
        var queue = new CompactMessageQueue();
        var start = new Barrier(senders + 1);
        var sending = Enumerable.Range(0, senders).Select(s => Task.Run(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < each; i++) queue.Enqueue(ActorRefs.Nobody, new Envelope((s, i), ActorRefs.NoSender));
        })).ToArray();
        var lastSeen = Enumerable.Repeat(-1, senders).ToArray();
        var received = 0;
        var receiving = Task.Run(() =>
        {
            start.SignalAndWait();
            var deadline = Environment.TickCount64 + 60_000;
            while (received < senders * each && Environment.TickCount64 < deadline)
            {
                if (!queue.TryDequeue(out var envelope)) { Thread.Yield(); continue; }
                var (s, i) = ((int, int))envelope.Message;
                Assert.Equal(lastSeen[s] + 1, i);
                lastSeen[s] = i;
                received++;
            }
        });
        await Task.WhenAll(sending.Append(receiving));
        Assert.Equal(senders * each, received);
        Assert.All(lastSeen, i => Assert.Equal(each - 1, i));
        Assert.False(queue.HasMessages);
    }

    private sealed class Stasher : UntypedActor, IWithStash
    {
        public IStash Stash { get; set; } = null!;

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case "open":
                    Stash.UnstashAll();
                    Become(m => Sender.Tell(m));
                    break;
                default:
                    Stash.Stash();
                    break;
            }
        }
    }

    [Fact(DisplayName = "an actor that stashes runs on it, and gets what it stashed back first, in order")]
    public void ServesStashingActors()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Stasher()).WithMailbox(CompactMailbox.Id));
        for (var i = 0; i < 50; i++) actor.Tell(i);
        actor.Tell("open");
        actor.Tell(50);
        for (var i = 0; i <= 50; i++) ExpectMsg(i);
        // Started by now (a top-level actor's cell is a placeholder until then).
        Assert.IsType<CompactMessageQueue>(((ActorRefWithCell)actor).Underlying is ActorCell cell ? cell.Mailbox!.MessageQueue : null);
    }
}
