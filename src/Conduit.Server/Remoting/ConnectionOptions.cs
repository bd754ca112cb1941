using Conduit.Protocol.Remoting;

namespace Conduit.Server.Remoting;

/// <summary>
/// How many TCP connections each of a node's ports holds open at once, in all and from one remote IP address
/// (<see cref="ConnectionLimits"/>). A connection past a limit is closed as it is accepted, before TLS and Akka's
/// handshake, and the refusal is logged (as a connection line: NodeLogger writes one a second per port). The client
/// port's defaults leave room for many clients behind one NAT address; the cluster port's for the other nodes, several
/// of them per address. Keep the two totals well below the process's file descriptor limit (<c>ulimit -n</c>), which the
/// database connections and files share.
/// </summary>
public sealed record ConnectionOptions
{
    public const int DefaultMaxClientConnections = 10_000;
    public const int DefaultMaxClientConnectionsPerAddress = 1_000;
    public const int DefaultMaxClusterConnections = 1_000;
    public const int DefaultMaxClusterConnectionsPerAddress = 100;
    public static readonly TimeSpan DefaultClientHandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Connections open at once on the client port (clients and the CLI). Defaults to 10,000.</summary>
    public int MaxClientConnections { get; init; } = DefaultMaxClientConnections;

    /// <summary>Connections open at once on the client port from one IP address (IPv6: one /64). Defaults to 1,000.</summary>
    public int MaxClientConnectionsPerAddress { get; init; } = DefaultMaxClientConnectionsPerAddress;

    /// <summary>Connections open at once on the cluster port (other nodes). Defaults to 1,000.</summary>
    public int MaxClusterConnections { get; init; } = DefaultMaxClusterConnections;

    /// <summary>Connections open at once on the cluster port from one IP address (IPv6: one /64). Defaults to 100.</summary>
    public int MaxClusterConnectionsPerAddress { get; init; } = DefaultMaxClusterConnectionsPerAddress;

    /// <summary>
    /// How long a connection to the client port may take to complete TLS and Akka's handshake; then it is closed and its
    /// place is free. A client does both within milliseconds; a connection that says nothing would otherwise hold its
    /// place for Akka's 15 s. (The cluster port keeps Akka's 15 s, which is also how long a node's dial may take.)
    /// Defaults to 5 s.
    /// </summary>
    public TimeSpan ClientHandshakeTimeout { get; init; } = DefaultClientHandshakeTimeout;

    /// <summary>The client port's limits.</summary>
    public ConnectionLimits Client => new(MaxClientConnections, MaxClientConnectionsPerAddress);

    /// <summary>The cluster port's limits.</summary>
    public ConnectionLimits Cluster => new(MaxClusterConnections, MaxClusterConnectionsPerAddress);

    /// <summary>
    /// Throws when a limit or the timeout is not positive (a per-address limit above its port's total is never reached).
    /// </summary>
    public void Validate()
    {
        Check(() => Client.Validate(), nameof(MaxClientConnections), nameof(MaxClientConnectionsPerAddress));
        Check(() => Cluster.Validate(), nameof(MaxClusterConnections), nameof(MaxClusterConnectionsPerAddress));
        if (ClientHandshakeTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ClientHandshakeTimeout), ClientHandshakeTimeout, "must be positive");
    }

    /// <summary>Names the option, not the record's parameter, in the exception.</summary>
    private static void Check(Action validate, string total, string perAddress)
    {
        try
        {
            validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            var option = e.ParamName == nameof(ConnectionLimits.MaxConnections) ? total : perAddress;
            throw new ArgumentOutOfRangeException(option, e.ActualValue, e.Message.Split(" (Parameter", 2)[0].Split(Environment.NewLine)[0]);
        }
    }
}
