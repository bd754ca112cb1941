namespace Conduit.Protocol;

/// <summary>
/// Names and ports that nodes, the client library and the CLI must agree on. A node runs two remoting endpoints:
/// the <b>client endpoint</b> (<see cref="ClientSystemName"/> on <see cref="DefaultClientPort"/>), which clients and the
/// CLI talk to, and the <b>cluster endpoint</b> (<see cref="ClusterSystemName"/> on <see cref="DefaultClusterPort"/>),
/// which only nodes talk to. See docs/security.md.
/// </summary>
public static class WireNames
{
    /// <summary>ActorSystem name of a node's client endpoint: clients address <c>akka.tcp://conduit@host:4053/user/frontend</c>.</summary>
    public const string ClientSystemName = "conduit";

    /// <summary>ActorSystem name of the cluster: seeds are <c>akka.tcp://conduit-cluster@host:5053</c>.</summary>
    public const string ClusterSystemName = "conduit-cluster";

    /// <summary>Port of the client endpoint. Defaults to 4053.</summary>
    public const int DefaultClientPort = 4053;

    /// <summary>Port of the cluster endpoint. Defaults to 5053.</summary>
    public const int DefaultClusterPort = 5053;

    /// <summary>Port of a node's HTTP listener (health, metrics, dashboard), on loopback unless told otherwise. Defaults to 8053.</summary>
    public const int DefaultHttpPort = 8053;

    /// <summary>Where queue requests go on a node's client endpoint (nodes with the <c>frontend</c> role).</summary>
    public const string FrontendPath = "/user/frontend";

    /// <summary>Where operator requests go on a node's client endpoint (every node).</summary>
    public const string ManagementPath = "/user/management";

    /// <summary>
    /// The kind in the ActorSystem name of a <c>ConduitClient</c>, which adds 32 random hex digits
    /// (<see cref="Remoting.ClientSystemName"/>); nodes show the kind only.
    /// </summary>
    public const string ClientLibrarySystemName = "conduit-client";

    /// <summary>The kind in the ActorSystem name of the <c>conduit</c> CLI (<see cref="Remoting.ClientSystemName"/>).</summary>
    public const string CliSystemName = "conduit-cli";
}
