using Akka.Actor;
using Akka.Remote;

namespace Conduit.Client;

/// <summary>
/// Keeps the client attached to the client endpoint of one node: it asks every contact point's
/// <see cref="WireNames.FrontendPath"/> who is there (<see cref="Identify"/>), takes the first node that has a frontend,
/// and sends requests there with the asker as sender, so the node's gateway answers the asker directly. When remoting
/// reports that node gone, it asks again (every <see cref="ProbeInterval"/>) and takes whichever node answers first,
/// the same one when it comes back. Requests made while no node is attached wait here (at most
/// <see cref="MaxBuffered"/>, the oldest dropped first) and go out when one is, unless their asker has given up by then
/// (<see cref="Send.Deadline"/>); none is ever sent twice.
/// </summary>
internal sealed class NodeLink : ReceiveActor, IWithTimers
{
    /// <summary>A request for the service at <paramref name="Path"/> (<c>/user/frontend</c>, <c>/user/management</c>) of the attached node.</summary>
    /// <param name="Deadline">When the asker stops waiting: a request still here then is dropped, not sent late.</param>
    public sealed record Send(string Path, object Message, DateTime Deadline);

    public const int MaxBuffered = 1000;
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    private readonly IReadOnlyList<Address> _nodes;
    private readonly ConnectionState _state;
    private readonly Queue<(Send Request, IActorRef Asker)> _waiting = new();
    private IActorRef? _frontend;
    private int _probeRound;
    private int _firstValidRound;

    public NodeLink(IReadOnlyList<Address> nodes, ConnectionState state)
    {
        _nodes = nodes;
        _state = state;
        Receive<Send>(OnSend);
        Receive<ActorIdentity>(OnIdentity);
        Receive<Probe>(_ => ProbeAll());
        Receive<DisassociatedEvent>(e => Lost(e.RemoteAddress));
        Receive<AssociationErrorEvent>(e => Lost(e.RemoteAddress));
        Receive<QuarantinedEvent>(e => Lost(e.Address));
        Receive<RemotingLifecycleEvent>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IReadOnlyList<Address> nodes, ConnectionState state) =>
        Akka.Actor.Props.Create(() => new NodeLink(nodes, state));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(RemotingLifecycleEvent));
        ProbeAll();
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void OnSend(Send send)
    {
        if (_frontend is null)
        {
            if (_waiting.Count == MaxBuffered) _waiting.Dequeue();
            _waiting.Enqueue((send, Sender));
            return;
        }
        Deliver(send, Sender);
    }

    private void Deliver(Send send, IActorRef asker)
    {
        if (send.Path == WireNames.FrontendPath) _frontend!.Tell(send.Message, asker);
        else Context.ActorSelection(new RootActorPath(_frontend!.Path.Address) + send.Path).Tell(send.Message, asker);
    }

    private void ProbeAll()
    {
        _probeRound++;
        foreach (var node in _nodes)
            Context.ActorSelection(new RootActorPath(node) + WireNames.FrontendPath).Tell(new Identify(_probeRound));
        Timers.StartSingleTimer(Probe.Instance, Probe.Instance, ProbeInterval);
    }

    private void OnIdentity(ActorIdentity identity)
    {
        // Only an answer to a round asked since the last node was lost: an older one may come from that very node.
        if (_frontend is not null || identity.Subject is null || identity.MessageId is not int round || round < _firstValidRound) return;
        _frontend = identity.Subject;
        Timers.Cancel(Probe.Instance);
        _state.Attached(_frontend.Path.Address);
        var now = DateTime.UtcNow;
        while (_waiting.TryDequeue(out var waiting))
            if (waiting.Request.Deadline > now) Deliver(waiting.Request, waiting.Asker);
    }

    private void Lost(Address address)
    {
        if (_frontend is null || !_frontend.Path.Address.Equals(address)) return;
        _frontend = null;
        _state.Detached();
        _firstValidRound = _probeRound + 1;
        ProbeAll();
    }

    private sealed class Probe
    {
        public static readonly Probe Instance = new();
    }
}

/// <summary>The node the client is attached to, written by <see cref="NodeLink"/>, read by the client.</summary>
internal sealed class ConnectionState
{
    private volatile Address? _node;

    public bool IsConnected => _node is not null;

    public Address? Node => _node;

    public void Attached(Address address) => _node = address;

    public void Detached() => _node = null;
}
