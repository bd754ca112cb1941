using Akka.Actor;
using Akka.Configuration;
using Akka.Remote.Transport;

namespace Conduit.Protocol.Remoting;

/// <summary>
/// The transport of a system that never opens a connection (<see cref="RemotingEndpoint.InboundOnly"/>, a node's client
/// endpoint): it listens and takes connections as the wrapped transport (DotNetty's TCP, with or without TLS) does, and
/// refuses every dial at once. Akka answers a peer over the connection the peer opened (passive connections), so
/// clients are answered as before; an answer for an address that has no connection is dropped (Akka gates that
/// address for a few seconds and sends its messages to dead letters).
/// <para>
/// Why: a request names its own reply address, and any peer that may send can write any address there. A system that
/// dials for its answers can be made to connect to any host and port (plain TCP), and Akka.Remote 1.5.73 shuts down a
/// system whose dial fails its TLS handshake (<c>TcpClientHandler</c>): the client endpoint stopped, and the node with
/// it (exit code 70). The scheme and addresses are the wrapped transport's, so peers see no difference. A client's
/// dropped connection is forgotten by <c>DroppedClients</c> on the node, so its next connection carries its answers.
/// </para>
/// </summary>
internal sealed class InboundOnlyTransport : Transport
{
    /// <summary>The reason in the refused dial's exception, and so in Akka's warning about the gated address.</summary>
    public const string Refusal = "this endpoint does not dial out; it answers only over connections its peers opened";

    /// <summary>The key in the transport's section naming the transport this one wraps (Akka's DotNetty TCP transport).</summary>
    public const string WrappedClassKey = "conduit-wrapped-transport-class";

    /// <summary>Akka's own TCP transport (<c>transport-class</c> in Akka.Remote's reference configuration).</summary>
    public const string DotNettyTcpTransport = "Akka.Remote.Transport.DotNetty.TcpTransport, Akka.Remote";

    private readonly Transport _inner;

    /// <summary>Made by Akka from <c>transport-class</c>; makes the transport <see cref="WrappedClassKey"/> names, as Akka would.</summary>
    public InboundOnlyTransport(ActorSystem system, Config config)
    {
        var wrapped = config.GetString(WrappedClassKey, null)
            ?? throw new ConfigurationException($"{WrappedClassKey} is not set in the transport's configuration");
        var type = Type.GetType(wrapped, throwOnError: true)!;
        _inner = (Transport)Activator.CreateInstance(type, system, config)!;
        System = system;
        Config = config;
    }

    public override string SchemeIdentifier => _inner.SchemeIdentifier;

    public override long MaximumPayloadBytes => _inner.MaximumPayloadBytes;

    public override Task<(Address, TaskCompletionSource<IAssociationEventListener>)> Listen() => _inner.Listen();

    public override bool IsResponsibleFor(Address remote) => _inner.IsResponsibleFor(remote);

    /// <summary>Refused: <see cref="InvalidAssociationException"/> is the failure Akka reads as "do not retry now".</summary>
    public override Task<AssociationHandle> Associate(Address remoteAddress) =>
        Task.FromException<AssociationHandle>(new InvalidAssociationException(Refusal));

    public override Task<bool> Shutdown() => _inner.Shutdown();

    public override Task<bool> ManagementCommand(object message) => _inner.ManagementCommand(message);
}
