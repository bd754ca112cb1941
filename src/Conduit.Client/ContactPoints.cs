using System.Globalization;
using Akka.Actor;

namespace Conduit.Client;

/// <summary>Turns <c>host:port</c> contact points into the addresses of nodes' client endpoints.</summary>
public static class ContactPoints
{
    /// <summary>
    /// <c>host:port</c> → <c>akka.tcp://{system}@host:port</c> (<c>akka.ssl.tcp</c> with <paramref name="tls"/>); a full
    /// <c>akka.tcp://system@host:port</c> address keeps its system, host and port (a path after it is ignored).
    /// </summary>
    public static Address ToNodeAddress(string server, string systemName = WireNames.ClientSystemName, bool tls = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(server);
        server = server.Trim();
        var protocol = tls ? "akka.ssl.tcp" : "akka.tcp";
        if (server.StartsWith("akka.tcp://", StringComparison.Ordinal) || server.StartsWith("akka.ssl.tcp://", StringComparison.Ordinal))
        {
            try
            {
                var address = ActorPath.TryParseAddress(server, out var parsed) ? parsed : null;
                if (address is { Host: not null, Port: > 0 }) return new Address(protocol, address.System, address.Host, address.Port);
            }
            catch (Exception)
            {
                // fall through to the error below
            }
            throw new ArgumentException($"'{server}' is not akka.tcp://system@host:port", nameof(server));
        }
        var colon = server.LastIndexOf(':');
        if (colon <= 0 || colon == server.Length - 1
            || !int.TryParse(server.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
            throw new ArgumentException($"'{server}' is not host:port (for example 127.0.0.1:4053)", nameof(server));
        return new Address(protocol, systemName, server[..colon], port);
    }
}
