using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Remote;

namespace Conduit.Client;

/// <summary>
/// Which nodes the client's ActorSystem currently has a remoting association with, from the event stream's
/// remoting lifecycle events. Used only to tell "the cluster is unreachable" from "the cluster is slow" when a
/// request times out; ClusterClient does the reconnecting.
/// </summary>
internal sealed class ConnectionMonitor : ReceiveActor
{
    public ConnectionMonitor(ConnectionState state)
    {
        Receive<AssociatedEvent>(e => state.Connected(e.RemoteAddress));
        Receive<DisassociatedEvent>(e => state.Disconnected(e.RemoteAddress));
        Receive<AssociationErrorEvent>(e => state.Disconnected(e.RemoteAddress));
        Receive<QuarantinedEvent>(e => state.Disconnected(e.Address));
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(RemotingLifecycleEvent));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    public static Props Props(ConnectionState state) => Akka.Actor.Props.Create(() => new ConnectionMonitor(state));
}

/// <summary>The associated node addresses, written by <see cref="ConnectionMonitor"/>, read by the client.</summary>
internal sealed class ConnectionState
{
    private readonly ConcurrentDictionary<Address, DateTimeOffset> _associated = new();

    public bool IsConnected => !_associated.IsEmpty;

    public IReadOnlyCollection<Address> Nodes => _associated.Keys.ToArray();

    public void Connected(Address address) => _associated[address] = DateTimeOffset.UtcNow;

    public void Disconnected(Address address) => _associated.TryRemove(address, out _);
}
