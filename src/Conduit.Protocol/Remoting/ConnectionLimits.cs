namespace Conduit.Protocol.Remoting;

/// <summary>
/// How many TCP connections one listening port holds open at once (<see cref="RemotingEndpoint.Limits"/>): in all, and
/// from one remote IP address. A connection past either is closed as it is accepted, before TLS and before Akka's
/// handshake, and counted again only once it is closed. Without them, anyone who reaches a port holds a file descriptor
/// per connection for Akka's 15 s handshake timeout, and a handshake with an announced address (which plain TCP lets
/// anyone make) holds one for good: 22,000 silent connections took a node to its descriptor limit (docs/security.md).
/// </summary>
/// <param name="MaxConnections">Connections open at once on the port, from everyone.</param>
/// <param name="MaxConnectionsPerAddress">Connections open at once on the port from one remote IP address (IPv4-mapped IPv6 addresses count as their IPv4).</param>
public sealed record ConnectionLimits(int MaxConnections, int MaxConnectionsPerAddress)
{
    /// <summary>Throws when a limit is not positive, or the per-address one is above the total.</summary>
    public void Validate()
    {
        if (MaxConnections < 1) throw new ArgumentOutOfRangeException(nameof(MaxConnections), MaxConnections, "must be at least 1");
        if (MaxConnectionsPerAddress < 1 || MaxConnectionsPerAddress > MaxConnections)
            throw new ArgumentOutOfRangeException(nameof(MaxConnectionsPerAddress), MaxConnectionsPerAddress, "must be 1 to the total limit");
    }
}
