using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Conduit.Server.Matching;

/// <summary>
/// The mailbox of queue partitions and their writers (<see cref="CompactMessageQueue"/>): unbounded, double-ended (so
/// it serves actors that stash), and small while idle. Akka's default keeps a <c>ConcurrentQueue</c> segment of at least
/// 32 slots per actor for the actor's whole life (about 1.1 KiB, and the largest segment a burst needed after it), which
/// was 2.2 KiB of every live queue on a node holding thousands of mostly idle partitions (BENCHMARKS.md).
/// <para>Given by id (<see cref="Id"/>, configured by <see cref="Hocon"/>) in the partitions' entity factory.</para>
/// </summary>
internal sealed class CompactMailbox : MailboxType, IProducesMessageQueue<CompactMessageQueue>
{
    /// <summary>Configuration path of this mailbox (<see cref="Props.WithMailbox"/>).</summary>
    public const string Id = "conduit.compact-mailbox";

    /// <summary>The mailbox's configuration, added on task-service nodes.</summary>
    public static readonly string Hocon = $"{Id}.mailbox-type = \"{typeof(CompactMailbox).FullName}, {typeof(CompactMailbox).Assembly.GetName().Name}\"";

    public CompactMailbox(Settings settings, Config config) : base(settings, config)
    {
    }

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CompactMessageQueue();
}

/// <summary>
/// A double-ended message queue under a lock: a ring buffer made on the first message and grown by doubling. A buffer
/// of more than <see cref="KeptCapacity"/> slots is kept while bursts keep needing it, and let go when the queue empties
/// after a run that held at most <see cref="KeptCapacity"/> messages: a busy actor does not make its buffer again for
/// every burst, and one that has gone quiet (its next timer or request is such a run) does not keep a burst's buffer.
/// Any thread enqueues; the actor alone dequeues and puts stashed messages back in front (<see cref="EnqueueFirst"/>).
/// </summary>
internal sealed class CompactMessageQueue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
{
    /// <summary>Slots the first message makes room for.</summary>
    public const int InitialCapacity = 4;
    /// <summary>A buffer at most this large is always kept; a larger one goes after a run of at most this many messages.</summary>
    public const int KeptCapacity = 16;

    private readonly object _gate = new();
    private Envelope[]? _items;
    private int _head;
    private int _count;
    /// <summary>The most messages held at once since the queue was last empty.</summary>
    private int _peak;

    public bool HasMessages => Volatile.Read(ref _count) > 0;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The buffer's size now (0 when none): what the queue holds on to.</summary>
    public int Capacity
    {
        get { lock (_gate) return _items?.Length ?? 0; }
    }

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (_gate)
        {
            var items = RoomForOneMore();
            items[(_head + _count) % items.Length] = envelope;
            Volatile.Write(ref _count, _count + 1);
            if (_count > _peak) _peak = _count;
        }
    }

    public void EnqueueFirst(Envelope envelope)
    {
        lock (_gate)
        {
            var items = RoomForOneMore();
            _head = (_head + items.Length - 1) % items.Length;
            items[_head] = envelope;
            Volatile.Write(ref _count, _count + 1);
            if (_count > _peak) _peak = _count;
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                envelope = default;
                return false;
            }
            var items = _items!;
            envelope = items[_head];
            items[_head] = default;
            _head = (_head + 1) % items.Length;
            Volatile.Write(ref _count, _count - 1);
            if (_count == 0)
            {
                _head = 0;
                if (items.Length > KeptCapacity && _peak <= KeptCapacity) _items = null;
                _peak = 0;
            }
            return true;
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }

    /// <summary>The buffer, made or doubled (its messages moved to the front) when full. Called under the lock.</summary>
    private Envelope[] RoomForOneMore()
    {
        if (_items is null) return _items = new Envelope[InitialCapacity];
        if (_count < _items.Length) return _items;
        var grown = new Envelope[_items.Length * 2];
        for (var i = 0; i < _count; i++) grown[i] = _items[(_head + i) % _items.Length];
        _head = 0;
        return _items = grown;
    }
}
