using System.Net;
using System.Net.Sockets;

namespace Conduit.Protocol.Remoting;

/// <summary>
/// How many TCP connections one listening port holds open at once (<see cref="RemotingEndpoint.Limits"/>): in all, and
/// from one source (<see cref="SourceOf"/>). A connection past either is closed as it is accepted, before TLS and before
/// Akka's handshake; an admitted one holds its place until it closes. Without them, anyone who reaches a port holds a
/// file descriptor per connection for Akka's 15 s handshake timeout, and a handshake with an announced address (which
/// plain TCP lets anyone make) holds one for good: 22,000 silent connections took a node to its descriptor limit
/// (docs/security.md).
/// </summary>
/// <param name="MaxConnections">Connections open at once on the port, from everyone.</param>
/// <param name="MaxConnectionsPerAddress">
/// Connections open at once on the port from one source; above <paramref name="MaxConnections"/> it is never reached.
/// </param>
public sealed record ConnectionLimits(int MaxConnections, int MaxConnectionsPerAddress)
{
    /// <summary>Throws when a limit is not positive.</summary>
    public void Validate()
    {
        if (MaxConnections < 1) throw new ArgumentOutOfRangeException(nameof(MaxConnections), MaxConnections, "must be at least 1");
        if (MaxConnectionsPerAddress < 1) throw new ArgumentOutOfRangeException(nameof(MaxConnectionsPerAddress), MaxConnectionsPerAddress, "must be at least 1");
    }

    /// <summary>
    /// The source a connection from <paramref name="remote"/> counts against: an IPv4 address (an IPv4-mapped IPv6
    /// address as its IPv4), or an IPv6 address's /64 prefix, which one host or site is commonly given whole (so it
    /// could otherwise use 2^64 addresses, each with a share of its own).
    /// </summary>
    public static IPAddress SourceOf(IPAddress remote)
    {
        if (remote.IsIPv4MappedToIPv6) return remote.MapToIPv4();
        if (remote.AddressFamily != AddressFamily.InterNetworkV6) return remote;
        var bytes = remote.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }
}
