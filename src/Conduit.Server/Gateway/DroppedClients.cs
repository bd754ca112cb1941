using Akka.Actor;
using Akka.Remote;

namespace Conduit.Server.Gateway;

/// <summary>
/// Forgets a client's dead connection when it drops, so that the client's next connection carries its answers.
/// <para>
/// The client endpoint answers only over the connections clients opened (<c>InboundOnlyTransport</c>). When a
/// connection drops without a goodbye (a reset by the network, a NAT that forgot it), Akka.Remote 1.5.73 keeps the dead
/// endpoint as the one to write to for the client's address, idle, for days; a client that dials again from the same
/// ActorSystem (as <c>ConduitClient</c> does) is then taken as a second, read-only connection, and every answer goes to
/// the dead endpoint, which would have to dial the client, and is dropped. Gating the address (a quarantine without a
/// UID, which Akka turns into a gate) stops the dead endpoint, so the next connection is the one written to
/// (ConnectionResetTests). A client that was already back gets its new connection closed once and dials again.
/// </para>
/// </summary>
internal sealed class DroppedClients : ReceiveActor
{
    public DroppedClients()
    {
        var remoting = (IRemoteActorRefProvider)((ExtendedActorSystem)Context.System).Provider;
        Receive<DisassociatedEvent>(e => remoting.Quarantine(e.RemoteAddress, null));
    }

    /// <summary>Starts the actor on <paramref name="endpoint"/> and subscribes it before the method returns.</summary>
    public static void Start(ActorSystem endpoint)
    {
        var actor = ((ExtendedActorSystem)endpoint).SystemActorOf(Props.Create(() => new DroppedClients()), "dropped-clients");
        endpoint.EventStream.Subscribe(actor, typeof(DisassociatedEvent));
    }
}
