namespace Conduit.Protocol.Remoting;

/// <summary>
/// Which TLS peers an ActorSystem accepts, in both directions (Akka runs one certificate check for connections it
/// accepts and connections it opens). Every peer must present a certificate that chains to the Conduit CA; the policy
/// says which kind of certificate on top of that.
/// </summary>
public enum PeerPolicy
{
    /// <summary>
    /// Only node certificates (<c>OU=conduit-node</c>). For the cluster system (only nodes talk to it) and for clients and
    /// the CLI (the server they reach must be a node, not another client holding a client certificate).
    /// </summary>
    NodesOnly,

    /// <summary>Node or client certificates (<c>OU=conduit-node</c> or <c>OU=conduit-client</c>). For a node's client endpoint.</summary>
    AnyCertifiedPeer,
}
