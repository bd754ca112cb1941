using System.Globalization;

namespace Conduit.Client;

/// <summary>Turns <c>host:port</c> contact points into receptionist paths.</summary>
public static class ContactPoints
{
    /// <summary>
    /// <c>host:port</c> → <c>akka.tcp://{system}@host:port/system/receptionist</c>; a full <c>akka.tcp://</c> path is kept,
    /// and an address without a path gets <c>/system/receptionist</c>.
    /// </summary>
    public static string ToReceptionistPath(string server, string systemName = ConduitClientOptions.DefaultClusterSystemName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(server);
        server = server.Trim();
        if (server.StartsWith("akka.tcp://", StringComparison.Ordinal))
        {
            var afterScheme = server["akka.tcp://".Length..];
            return afterScheme.Contains('/', StringComparison.Ordinal) ? server : server + "/system/receptionist";
        }
        var colon = server.LastIndexOf(':');
        if (colon <= 0 || colon == server.Length - 1
            || !int.TryParse(server.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
            throw new ArgumentException($"'{server}' is not host:port (for example 127.0.0.1:4053)", nameof(server));
        return $"akka.tcp://{systemName}@{server[..colon]}:{port.ToString(CultureInfo.InvariantCulture)}/system/receptionist";
    }
}
