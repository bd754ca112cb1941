using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport;

namespace Conduit.Protocol.Remoting;

/// <summary>
/// Akka's own transport (DotNetty's TCP, with or without TLS) under Conduit's guards: set as <c>transport-class</c>, it
/// makes the transport <see cref="WrappedClassKey"/> names and passes everything on, but for what the guards change. This
/// class holds a listening port to its <see cref="ConnectionLimits"/> (when <see cref="MaxConnectionsKey"/> is set); the
/// one-way transports below also refuse a direction. The scheme and addresses are the wrapped transport's, so peers see
/// no difference. As the transport class, not as an Akka transport adapter: Akka reads <c>akka.remote.adapters</c> with a
/// quoted value's quotes, so no adapter outside Akka.Remote's own assembly can be named there.
/// </summary>
internal class GuardedTransport : Transport
{
    /// <summary>The key in the transport's section naming the transport this one wraps (Akka's DotNetty TCP transport).</summary>
    public const string WrappedClassKey = "conduit-wrapped-transport-class";

    /// <summary>The keys in the transport's section holding <see cref="ConnectionLimits"/>; without them, no limit.</summary>
    public const string MaxConnectionsKey = "conduit-max-connections";

    /// <inheritdoc cref="MaxConnectionsKey"/>
    public const string MaxConnectionsPerAddressKey = "conduit-max-connections-per-address";

    /// <summary>Akka's own TCP transport (<c>transport-class</c> in Akka.Remote's reference configuration).</summary>
    public const string DotNettyTcpTransport = "Akka.Remote.Transport.DotNetty.TcpTransport, Akka.Remote";

    public GuardedTransport(ActorSystem system, Config config)
    {
        var wrapped = config.GetString(WrappedClassKey, null)
            ?? throw new ConfigurationException($"{WrappedClassKey} is not set in the transport's configuration");
        var type = Type.GetType(wrapped, throwOnError: true)!;
        Inner = (Transport)Activator.CreateInstance(type, system, config)!;
        System = system;
        Config = config;
        if (config.HasPath(MaxConnectionsKey))
        {
            Limits = new ConnectionLimits(config.GetInt(MaxConnectionsKey), config.GetInt(MaxConnectionsPerAddressKey));
            Limits.Validate();
        }
    }

    protected Transport Inner { get; }

    /// <summary>The listening port's limits; null: none.</summary>
    private ConnectionLimits? Limits { get; }

    public override string SchemeIdentifier => Inner.SchemeIdentifier;

    public override long MaximumPayloadBytes => Inner.MaximumPayloadBytes;

    public override async Task<(Address, TaskCompletionSource<IAssociationEventListener>)> Listen()
    {
        var listening = await Inner.Listen().ConfigureAwait(false);
        if (Limits is { } limits)
        {
            try
            {
                ConnectionGate.Attach(Inner, limits, Logging.GetLogger(System, typeof(ConnectionGates)));
            }
            catch
            {
                // Not listening without the gate: the port and DotNetty's threads are let go, and remoting fails to start.
                await Inner.Shutdown().ConfigureAwait(false);
                throw;
            }
        }
        return listening;
    }

    public override bool IsResponsibleFor(Address remote) => Inner.IsResponsibleFor(remote);

    public override Task<AssociationHandle> Associate(Address remoteAddress) => Inner.Associate(remoteAddress);

    public override Task<bool> Shutdown() => Inner.Shutdown();

    public override Task<bool> ManagementCommand(object message) => Inner.ManagementCommand(message);
}

/// <summary>
/// The transport of a system that never opens a connection (<see cref="RemotingEndpoint.InboundOnly"/>, a node's client
/// endpoint): it listens and takes connections as the wrapped transport does, and refuses every dial at once. Akka
/// answers a peer over the connection the peer opened (passive connections), so clients are answered as before; an
/// answer for an address that has no connection is dropped (Akka gates that address for a few seconds and sends its
/// messages to dead letters).
/// <para>
/// Why: a request names its own reply address, and any peer that may send can write any address there. A system that
/// dials for its answers can be made to connect to any host and port (plain TCP), and Akka.Remote 1.5.73 shuts down a
/// system whose dial fails its TLS handshake (<c>TcpClientHandler</c>): the client endpoint stopped, and the node with
/// it (exit code 70). A client's dropped connection is forgotten by <c>DroppedClients</c> on the node, so its next
/// connection carries its answers.
/// </para>
/// </summary>
internal sealed class InboundOnlyTransport(ActorSystem system, Config config) : GuardedTransport(system, config)
{
    /// <summary>The reason in the refused dial's exception, and so in Akka's warning about the gated address.</summary>
    public const string Refusal = "this endpoint does not dial out; it answers only over connections its peers opened";

    /// <summary>Refused: <see cref="InvalidAssociationException"/> is the failure Akka reads as "do not retry now".</summary>
    public override Task<AssociationHandle> Associate(Address remoteAddress) =>
        Task.FromException<AssociationHandle>(new InvalidAssociationException(Refusal));
}

/// <summary>
/// The transport of a system that only dials (<see cref="RemotingEndpoint.OutboundOnly"/>, a client): Akka needs it to
/// listen, but every connection that comes in is closed before a byte of Akka's handshake, in which the system would
/// tell the dialer its whole address, random part included (<see cref="ClientSystemName"/>). Nodes never dial a client:
/// their client endpoints answer over the client's own connection.
/// </summary>
internal sealed class OutboundOnlyTransport(ActorSystem system, Config config) : GuardedTransport(system, config)
{
    public override async Task<(Address, TaskCompletionSource<IAssociationEventListener>)> Listen()
    {
        var (address, inner) = await base.Listen().ConfigureAwait(false);
        var outer = new TaskCompletionSource<IAssociationEventListener>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = outer.Task.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully) inner.TrySetResult(new RefusingListener(t.Result, Logging.GetLogger(System, typeof(OutboundOnlyTransport))));
            else if (t.Exception is { } e) inner.TrySetException(e.InnerExceptions);
            else inner.TrySetCanceled();
        }, TaskContinuationOptions.ExecuteSynchronously);
        return (address, outer);
    }

    /// <summary>Closes every inbound connection; passes everything else to Akka's own listener.</summary>
    private sealed class RefusingListener(IAssociationEventListener akka, ILoggingAdapter log) : IAssociationEventListener
    {
        public void Notify(IAssociationEvent ev)
        {
            // Akka leaves the handle null when it could not make one, and closes that channel itself.
            if (ev is InboundAssociation inbound) inbound.Association?.Disassociate("this system only dials; nodes never connect to it", log);
            else akka.Notify(ev);
        }
    }
}
