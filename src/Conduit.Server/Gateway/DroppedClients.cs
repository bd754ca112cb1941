using Akka.Actor;
using Akka.Remote;

namespace Conduit.Server.Gateway;

/// <summary>
/// Forgets a client's dead connection when it drops, so that the client's next connection carries its answers.
/// <para>
/// The client endpoint answers only over the connections clients opened (<c>InboundOnlyTransport</c>). When a
/// connection ends with a TCP close but without Akka's own goodbye (the client's side gave it up, or something between
/// closed it), Akka.Remote 1.5.73 keeps the dead endpoint as the one to write to for the client's address, idle, until
/// it has been silent for days (<c>quarantine-after-silence</c>); a client that dials again from the same
/// ActorSystem (as <c>ConduitClient</c> does) is then taken as a second, read-only connection, and every answer goes to
/// the dead endpoint, which would have to dial the client, and is dropped. Gating the address (a quarantine without a
/// UID, which Akka turns into a gate; never a quarantine of the client's system) stops the dead endpoint, so the next
/// connection is the one written to (ConnectionResetTests). Akka publishes the event when the old connection's writer
/// stops, so it can come after the client's new connection was taken: that connection is closed once, and the client
/// dials again after its gate (1-5 s). A reset connection needs none of this (Akka stops its endpoint itself).
/// </para>
/// </summary>
internal sealed class DroppedClients : ReceiveActor
{
    public DroppedClients()
    {
        var remoting = (IRemoteActorRefProvider)((ExtendedActorSystem)Context.System).Provider;
        Receive<DisassociatedEvent>(e =>
        {
            // Outbound: a refused dial, whose address Akka has gated already.
            if (!e.IsInbound) return;
            try
            {
                remoting.Quarantine(e.RemoteAddress, null);
            }
            catch (RemoteTransportException)
            {
                // The endpoint's remoting is shutting down: nothing left to forget.
            }
        });
    }

    /// <summary>Starts the actor on <paramref name="endpoint"/> and subscribes it before the method returns.</summary>
    public static void Start(ActorSystem endpoint)
    {
        var actor = ((ExtendedActorSystem)endpoint).SystemActorOf(Props.Create(() => new DroppedClients()), "dropped-clients");
        endpoint.EventStream.Subscribe(actor, typeof(DisassociatedEvent));
    }
}
